import Foundation
import JobQueue
import Logging
import Postgres
import Redis
import ShopDomain
import ShopJobs
import Storage
import Worker

/// `bench draw`: the close job of a draw with N entries, against a plain COPY of the same
/// entries out of PostgreSQL measured in the same run (the floor any close job must read).
public enum DrawBenchmark {
    public struct Parameters: Sendable {
        public var entries: Int
        public var stock: Int
        public var waitlistDepth: Int
        public var auditOut: String?

        public init(entries: Int, stock: Int, waitlistDepth: Int? = nil, auditOut: String? = nil) {
            self.entries = entries
            self.stock = stock
            self.waitlistDepth = waitlistDepth ?? stock
            self.auditOut = auditOut
        }
    }

    public struct Result: Codable, Sendable {
        public let entries: Int
        public let stock: Int
        public let waitlist_depth: Int
        /// Close job start → winners committed and charge jobs enqueued.
        public let close_s: Double
        /// COPY of the same entries, in the same order, out of PostgreSQL.
        public let copy_out_s: Double
        public let ratio: Double
        public let orders: Int
        public let audit_out: String?
    }

    public static func run(
        _ parameters: Parameters, postgres: PostgresConfiguration, redis configuration: RedisConfiguration,
        progress: @Sendable (String) -> Void
    ) async throws -> Result {
        try await BenchDatabase.with(postgres: postgres, poolSize: 4, redis: configuration) { database, redis in
            try await measure(parameters, database: database, redis: redis, progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, database: BenchDatabase, redis: RedisClient, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        let pool = database.pool
        progress("loading \(parameters.entries) customers and entries")
        let customers = try await database.insertCustomers(parameters.entries)
        let product = try await database.insertProduct()
        let seed = DrawProtocolV1.makeSeed()
        let dropID = try await pool.query("""
            INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at, waitlist_depth, seed, commitment)
            VALUES ($1, 'draw', 'open', $2, $2, now() - interval '1 hour', now() + interval '1 hour', $3, $4::bytea, $5)
            RETURNING id
            """, [.int(product), .int(parameters.stock), .int(parameters.waitlistDepth), .bytes(seed),
                  .text(DrawProtocolV1.commitment(seed: seed))])[0].int(0)
        try await pool.withConnection { connection in
            try connection.copyIn("COPY entries (drop_id, user_id) FROM STDIN") { writer in
                for customer in customers { try writer.write("\(dropID)\t\(customer)\n") }
            }
            try connection.query("UPDATE drops SET status = 'closing' WHERE id = $1", [.int(dropID)])
            try connection.query("ANALYZE entries")
        }

        let copySQL = "COPY (SELECT user_id, tickets FROM entries WHERE drop_id = \(dropID) ORDER BY user_id) TO STDOUT"
        @Sendable func copyOut() async throws -> Double {
            try await pool.withConnection { connection in
                let start = ContinuousClock.now
                var bytes = 0
                try connection.copyOut(copySQL) { bytes += $0.count }
                return start.duration(to: .now).seconds
            }
        }
        _ = try await copyOut()  // warm the cache, so both measurements read from memory

        progress("running the close job")
        let catalog = JobCatalog([
            JobDefinition(kind: ShopJob.closeDropKind, queue: "drops", timeoutSeconds: 600, maxAttempts: 1,
                          backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
            JobDefinition(kind: ShopJob.chargeOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 1,
                          backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
        ])
        let prefix = "bench:draw:\(UUID().uuidString.prefix(8)):"
        let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
        let handlers = WorkerHandlers.make(.init(
            pool: pool, redis: redis, queue: queue, payments: nil, paymentWindowSeconds: 900, returnUnits: nil))
        let job = Job(id: "bench-close", kind: ShopJob.closeDropKind, queue: "drops", attempt: 1, maxAttempts: 1,
                      visibilityMilliseconds: 60_000, enqueuedAtMilliseconds: 0, uniqueKey: nil,
                      payload: ShopJob.closeDrop(dropID: dropID).payload)
        let start = ContinuousClock.now
        try await handlers[ShopJob.closeDropKind]!.handle(JobContext(job: job, logger: Logger(label: "bench-draw")))
        let closeSeconds = start.duration(to: .now).seconds

        progress("measuring COPY out of the same entries")
        let copySeconds = try await copyOut()
        let orders = try await pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        let enqueued = try await redis.send(RedisCommand("LLEN", prefix + "q:payments")).requireInt()
        guard enqueued == orders else {
            throw BenchmarkError("the close job enqueued \(enqueued) charge jobs for \(orders) orders")
        }
        try await QueueBenchmark.deleteKeys(redis, prefix: prefix)

        if let path = parameters.auditOut {
            guard case .bundle(let bundle) = try await pool.withConnection({ try AuditBundleStore.bundle($0, dropID: dropID) }) else {
                throw BenchmarkError("the drawn drop has no audit bundle")
            }
            try Data(bundle.jsonBytes()).write(to: URL(fileURLWithPath: path))
        }
        return Result(
            entries: parameters.entries, stock: parameters.stock, waitlist_depth: parameters.waitlistDepth,
            close_s: rounded(closeSeconds), copy_out_s: rounded(copySeconds), ratio: rounded(closeSeconds / copySeconds, 2),
            orders: orders, audit_out: parameters.auditOut)
    }
}
