import CurlHTTP
import Foundation
import JobQueue
import Logging
import MockPayments
import Postgres
import Redis
import ShopJobs
import Synchronization
import Worker

/// `bench payments`: N pending orders charged through the real worker runtime and payment client
/// against `mock-payments` answering after a fixed latency; counts double charges at the provider.
public enum PaymentsBenchmark {
    public struct Parameters: Sendable {
        public var orders: Int
        public var latencyMilliseconds: Int
        public var concurrency: Int

        public init(orders: Int, latencyMilliseconds: Int, concurrency: Int = 512) {
            self.orders = orders
            self.latencyMilliseconds = latencyMilliseconds
            self.concurrency = concurrency
        }
    }

    public struct Result: Codable, Sendable {
        public let orders: Int
        public let latency_ms: Int
        public let concurrency: Int
        public let charges_per_s: Double
        public let elapsed_s: Double
        public let paid: Int
        public let provider_charges: Int
        public let double_charges: Int
        /// The most a single charge-at-a-time client could do at this latency (1000 / latency).
        public let sequential_limit_per_s: Double
    }

    public static func run(
        _ parameters: Parameters, postgres: PostgresConfiguration, redis configuration: RedisConfiguration,
        progress: @Sendable (String) -> Void
    ) async throws -> Result {
        try await BenchDatabase.with(postgres: postgres, poolSize: 8, redis: configuration, redisConnections: 2) { database, redis in
            try await measure(parameters, database: database, redis: redis, progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, database: BenchDatabase, redis: RedisClient, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        let secret = UUID().uuidString
        var logger = Logger(label: "bench-payments")
        logger.logLevel = .warning
        let provider = try MockPaymentProvider(
            configuration: MockPaymentsConfiguration(
                port: 0, secret: secret, callbackSecret: UUID().uuidString, latencyMilliseconds: parameters.latencyMilliseconds),
            logger: logger)
        let providerTask = Task { try await provider.run() }
        defer { providerTask.cancel() }
        let port = try await provider.waitUntilListening()

        progress("creating \(parameters.orders) pending orders")
        let pool = database.pool
        let customers = try await database.insertCustomers(parameters.orders)
        let product = try await database.insertProduct()
        let dropID = try await pool.query("""
            INSERT INTO drops (product_id, kind, status, stock, available, held, opens_at)
            VALUES ($1, 'open_run', 'open', $2, 0, $2, now() - interval '1 hour') RETURNING id
            """, [.int(product), .int(parameters.orders)])[0].int(0)
        let orderIDs = try await pool.query("""
            INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
            SELECT $1::bigint, u, 15000, 'EUR', 'wh_' || $1::bigint || '_' || u, now() + interval '1 hour'
            FROM unnest($2::bigint[]) AS u RETURNING id
            """, [.int(dropID), .intArray(customers)]).map { try $0.int(0) }

        let catalog = JobCatalog([
            JobDefinition(kind: ShopJob.chargeOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                          backoffBaseMilliseconds: 100, backoffCapMilliseconds: 2000, visibilityTimeoutSeconds: 30),
            JobDefinition(kind: ShopJob.expireOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                          backoffBaseMilliseconds: 100, backoffCapMilliseconds: 2000, visibilityTimeoutSeconds: 30),
        ])
        let prefix = "bench:payments:\(UUID().uuidString.prefix(8)):"
        let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
        for start in stride(from: 0, to: orderIDs.count, by: 5000) {
            try await queue.enqueue(orderIDs[start..<min(start + 5000, orderIDs.count)].map { ShopJob.chargeOrder(orderID: $0) })
        }
        let http = CurlHTTPClient(name: "bench-payments-http", maxIdleConnections: parameters.concurrency + 64)
        defer { http.shutdown() }
        let payments = PaymentClient(
            configuration: .init(url: "http://127.0.0.1:\(port)/v1/charges", secret: secret,
                                 timeoutMilliseconds: 10_000, connectTimeoutMilliseconds: 2000),
            http: http)
        let worker = JobWorker(
            queue: queue,
            handlers: WorkerHandlers.make(.init(
                pool: pool, redis: redis, queue: queue, payments: payments, paymentWindowSeconds: 3600, returnUnits: nil)),
            configuration: .init(queues: ["payments"], concurrency: parameters.concurrency, fetchBatch: 500, idleBlockSeconds: 0.2),
            logger: logger)

        progress("charging with \(parameters.concurrency) in flight at \(parameters.latencyMilliseconds) ms provider latency")
        let start = ContinuousClock.now
        let workerTask = Task { try await worker.run() }
        while try await pool.query("SELECT count(*) FROM orders WHERE status = 'pending_payment'")[0].int(0) > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = start.duration(to: .now).seconds
        workerTask.cancel()
        try? await workerTask.value
        try await QueueBenchmark.deleteKeys(redis, prefix: prefix)

        let paid = try await pool.query("SELECT count(*) FROM orders WHERE status = 'paid'")[0].int(0)
        let stats = provider.stats()
        return Result(
            orders: parameters.orders, latency_ms: parameters.latencyMilliseconds, concurrency: parameters.concurrency,
            charges_per_s: rounded(Double(parameters.orders) / elapsed, 0), elapsed_s: rounded(elapsed),
            paid: paid, provider_charges: stats.chargesSucceeded,
            double_charges: stats.doubleChargedKeys + stats.doubleChargedOrders,
            sequential_limit_per_s: rounded(1000 / Double(max(1, parameters.latencyMilliseconds)), 1))
    }
}
