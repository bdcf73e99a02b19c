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
        /// `draw` (one ticket each) or `raffle` (1…`maxTickets` tickets, mixed).
        public var kind: DropKind
        public var maxTickets: Int

        public init(
            entries: Int, stock: Int, waitlistDepth: Int? = nil, auditOut: String? = nil, kind: DropKind = .draw,
            maxTickets: Int = 10
        ) {
            self.entries = entries
            self.stock = stock
            self.waitlistDepth = waitlistDepth ?? stock
            self.auditOut = auditOut
            self.kind = kind
            self.maxTickets = kind == .raffle ? maxTickets : 1
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
        public let kind: String
        public let tickets: Int
        /// The largest resident set of this process, which ran the close job (the loading runs
        /// in PostgreSQL, so it is the close's own): ru_maxrss.
        public let worker_max_rss_mb: Double
        /// The stored audit bundle's size.
        public let bundle_bytes: Int
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
        progress("loading \(parameters.entries) customers and entries (in PostgreSQL)")
        let product = try await database.insertProduct()
        let seed = DrawProtocolV1.makeSeed()
        let dropID = try await pool.query(
            """
            INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at, waitlist_depth, max_tickets,
                               seed, commitment)
            VALUES ($1, $2, 'open', $3, $3, now() - interval '1 hour', now() + interval '1 hour', $4, $5, $6::bytea, $7)
            RETURNING id
            """,
            [
                .int(product), .text(parameters.kind.rawValue), .int(parameters.stock), .int(parameters.waitlistDepth),
                .int(parameters.maxTickets), .bytes(seed), .text(DrawProtocolV1.commitment(seed: seed)),
            ])[0].int(0)
        let tickets = try await pool.withConnection { [parameters] connection in
            try connection.withoutReplyTimeout {
                // Generated server-side: the benchmark process holds no list of customers, so its
                // peak memory is the close job's.
                try connection.query(
                    """
                    INSERT INTO users (email, password_hash, role)
                    SELECT 'b' || g || '-' || $1 || '@bench.example', 'not-a-login', 'customer' FROM generate_series(1, $2) g
                    """, [.int(dropID), .int(parameters.entries)])
                // Mixed tickets for a raffle: a fixed scramble of the user id, 1…max_tickets.
                try connection.query(
                    """
                    INSERT INTO entries (drop_id, user_id, tickets)
                    SELECT $1, id, 1 + ((id * 2654435761) % $2) FROM users WHERE email LIKE $3
                    """, [.int(dropID), .int(parameters.maxTickets), .text("%-\(dropID)@bench.example")])
                try connection.query("UPDATE drops SET status = 'closing' WHERE id = $1", [.int(dropID)])
                try connection.query("ANALYZE entries")
                return try connection.query("SELECT sum(tickets)::bigint FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0)
            }
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
        let catalog = JobCatalog.drawInProcess
        let prefix = "bench:draw:\(UUID().uuidString.prefix(8)):"
        let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
        // The worker role's close handler, without a payment client: nothing is charged here.
        let role = WorkerRole(
            configuration: .init(payments: nil, paymentWindowSeconds: 900, worker: .init(queues: ["drops"], concurrency: 1)),
            pool: pool, redis: redis, queue: queue, gate: nil)
        defer { role.shutdown() }
        let handlers = role.handlers
        let job = Job(
            id: "bench-close", kind: ShopJob.closeDropKind, queue: "drops", attempt: 1, maxAttempts: 1,
            visibilityMilliseconds: 60_000, enqueuedAtMilliseconds: 0, uniqueKey: nil,
            payload: ShopJob.closeDrop(dropID: dropID).payload)
        let start = ContinuousClock.now
        try await handlers[ShopJob.closeDropKind]!.handle(JobContext(job: job, logger: Logger(label: "bench-draw")))
        let closeSeconds = start.duration(to: .now).seconds

        progress("measuring COPY out of the same entries")
        let copySeconds = try await copyOut()
        let orders = try await pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        let enqueued = try await redis.send(RedisCommand("LLEN", queue.waitingListKey("payments"))).requireInt()
        guard enqueued == orders else {
            throw BenchmarkError("the close job enqueued \(enqueued) charge jobs for \(orders) orders")
        }
        try await QueueBenchmark.deleteKeys(redis, prefix: prefix)

        let stored = try await pool.withConnection { try AuditBundleStore.source($0, dropID: dropID) }
        guard case .stored(let bundle) = stored else { throw BenchmarkError("the drawn drop has no stored audit bundle") }
        if let path = parameters.auditOut {
            try await writeBundle(bundle, dropID: dropID, to: path, pool: pool, progress: progress)
        }
        return Result(
            entries: parameters.entries, stock: parameters.stock, waitlist_depth: parameters.waitlistDepth,
            close_s: rounded(closeSeconds), copy_out_s: rounded(copySeconds), ratio: rounded(closeSeconds / copySeconds, 2),
            orders: orders, audit_out: parameters.auditOut, kind: parameters.kind.rawValue, tickets: tickets,
            worker_max_rss_mb: rounded(maxResidentMegabytes(), 1), bundle_bytes: bundle.byteCount)
    }

    /// The stored bundle, chunk by chunk, into `path`.
    static func writeBundle(
        _ stored: AuditBundleStore.Stored, dropID: Int, to path: String, pool: PostgresPool, progress: @Sendable (String) -> Void
    ) async throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw BenchmarkError("cannot write \(path)")
        }
        defer { try? file.close() }
        for seq in 0..<stored.chunkCount {
            let chunk = try await pool.withConnection { try AuditBundleStore.chunk($0, dropID: dropID, seq: seq) }
            try file.write(contentsOf: chunk)
            progress("writing the audit bundle: chunk \(seq + 1) of \(stored.chunkCount)")
        }
    }

    /// ru_maxrss of this process, in megabytes (Linux reports kilobytes).
    static func maxResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
