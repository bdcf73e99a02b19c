import Foundation
import JobQueue
import Logging
import MockPayments
import Postgres
import Redis
import Settings
import ShopDomain
import ShopJobs
import Storage
import Synchronization
import Worker

/// `bench payments`: N pending orders charged through the real worker runtime and payment client
/// against `mock-payments` answering after a fixed latency; counts double charges at the provider.
///
/// Some charges (`latePercent`) are answered `pending` and their `charge.succeeded` callback comes
/// late, after the order's payment window has ended: an in-process intake receives it, records
/// the payment and enqueues its refund, which the same worker sends. The run reports whether
/// every late success was paid back and whether the provider kept money for any order that holds
/// no unit.
public enum PaymentsBenchmark {
    public struct Parameters: Sendable {
        public var orders: Int
        public var latencyMilliseconds: Int
        public var concurrency: Int
        /// Fraction of charges answered pending that then succeed after the payment window.
        public var lateRate: Double

        public init(orders: Int, latencyMilliseconds: Int, concurrency: Int = 512, lateRate: Double = 0.02) {
            self.orders = orders
            self.latencyMilliseconds = latencyMilliseconds
            self.concurrency = concurrency
            self.lateRate = lateRate
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
        /// Successes that reached the shop after their order expired, and how many were refunded.
        public let late_successes: Int
        public let late_successes_refunded: Int
        /// Orders the provider kept money for without the order holding a paid unit (must be 0).
        public let kept_without_unit: Int
        /// Refunds the provider was asked to pay twice for one order (must be 0).
        public let double_refunds: Int
    }

    public static func run(
        _ parameters: Parameters, settings: ShopSettings, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        try await BenchDatabase.with(
            postgres: settings.postgresConfiguration, poolSize: 8, redis: settings.redisConfiguration, redisConnections: 2
        ) { database, redis in
            try await measure(parameters, settings: settings, database: database, redis: redis, progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, settings: ShopSettings, database: BenchDatabase, redis: RedisClient,
        progress: @Sendable (String) -> Void
    ) async throws -> Result {
        // The late callbacks go to an intake in this process, on this run's database and keys.
        let prefix = "bench:payments:\(UUID().uuidString.prefix(8)):"
        var intakeSettings = settings
        intakeSettings.postgres.database = database.configuration.database
        intakeSettings.redis.keyPrefix = prefix
        intakeSettings.payments.callbackSecret = UUID().uuidString + UUID().uuidString
        return try await InProcessIntake.with(settings: intakeSettings) { intake in
            try await measure(
                parameters, database: database, redis: redis, prefix: prefix,
                callback: (intake.url("/v1/payments/callback"), intakeSettings.payments.callbackSecret), progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, database: BenchDatabase, redis: RedisClient, prefix: String,
        callback: (url: String, secret: String), progress: @Sendable (String) -> Void
    ) async throws -> Result {
        let secret = UUID().uuidString
        var logger = Logger(label: "bench-payments")
        logger.logLevel = .warning
        var configuration = MockPaymentsConfiguration(
            port: 0, secret: secret + secret, callbackSecret: callback.secret, latencyMilliseconds: parameters.latencyMilliseconds,
            pendingRate: parameters.lateRate, callbackURL: callback.url)
        configuration.lateSuccessRate = 1
        configuration.lateCallbackDelayMilliseconds = 1000
        let provider = try MockPaymentProvider(configuration: configuration, logger: logger)
        let providerTask = Task { try await provider.run() }
        defer { providerTask.cancel() }
        let port = try await provider.waitUntilListening()

        progress("creating \(parameters.orders) pending orders")
        let pool = database.pool
        let customers = try await database.insertCustomers(parameters.orders)
        let product = try await database.insertProduct()
        let dropID = try await pool.query(
            """
            INSERT INTO drops (product_id, kind, status, stock, available, held, opens_at)
            VALUES ($1, 'open_run', 'open', $2, 0, $2, now() - interval '1 hour') RETURNING id
            """, [.int(product), .int(parameters.orders)])[0].int(0)
        let orderIDs = try await pool.query(
            """
            INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at)
            SELECT $1::bigint, u, 15000, 'EUR', now() + interval '1 hour'
            FROM unnest($2::bigint[]) AS u RETURNING id
            """, [.int(dropID), .intArray(customers)]
        ).map { try $0.int(0) }

        let catalog = JobCatalog([
            JobDefinition(
                kind: ShopJob.chargeOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                backoffBaseMilliseconds: 100, backoffCapMilliseconds: 2000, visibilityTimeoutSeconds: 30),
            JobDefinition(
                kind: ShopJob.expireOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                backoffBaseMilliseconds: 100, backoffCapMilliseconds: 2000, visibilityTimeoutSeconds: 30),
            JobDefinition(
                kind: ShopJob.refundOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                backoffBaseMilliseconds: 100, backoffCapMilliseconds: 2000, visibilityTimeoutSeconds: 30),
        ])
        // The intake's queue: its callbacks enqueue the refunds this worker sends.
        let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: JobQueue.keyPrefix(deployment: prefix))
        for start in stride(from: 0, to: orderIDs.count, by: 5000) {
            try await queue.enqueue(orderIDs[start..<min(start + 5000, orderIDs.count)].map { ShopJob.chargeOrder(orderID: $0) })
        }
        let role = WorkerRole(
            configuration: .init(
                payments: .init(
                    url: "http://127.0.0.1:\(port)/v1/charges", secret: secret + secret,
                    timeoutMilliseconds: 10_000, connectTimeoutMilliseconds: 2000),
                paymentWindowSeconds: 3600,
                worker: .init(queues: ["payments"], concurrency: parameters.concurrency, fetchBatch: 500, idleBlockSeconds: 0.2),
                maxIdleConnections: parameters.concurrency + 64),
            pool: pool, redis: redis, queue: queue, gate: nil, httpName: "bench-payments-http")
        defer { role.shutdown() }
        let worker = role.makeWorker(logger: logger)

        progress("charging with \(parameters.concurrency) in flight at \(parameters.latencyMilliseconds) ms provider latency")
        let start = ContinuousClock.now
        let workerTask = Task { try await worker.run() }
        var sweep = 0
        while true {
            // A pending charge's window ends at once (its callback is a second away): its success
            // arrives late, as the provider was told to send it. Swept every 100 ms: a scan of
            // the pending orders every 20 ms would cost the charges being measured.
            sweep += 1
            var awaiting: [Int] = []
            if sweep % 5 == 0 {
                awaiting = try await pool.query(
                    """
                    UPDATE orders SET expires_at = now() - interval '1 millisecond'
                    WHERE status = 'pending_payment' AND charge_state = '\(ChargeState.awaitingCallback.rawValue)' AND expires_at > now()
                    RETURNING id
                    """
                ).map { try $0.int(0) }
            }
            if !awaiting.isEmpty {
                // Expired here rather than by their expiry jobs, which wait for the original window.
                let expiring = awaiting
                _ = try await pool.transaction { connection in
                    try OrderSettlementStore.apply(
                        connection, expiring.map { Settlement(orderID: $0, outcome: .expired) }, paymentWindowSeconds: 3600)
                }
            }
            if try await pool.query("SELECT count(*) FROM orders WHERE status = 'pending_payment'")[0].int(0) == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = start.duration(to: .now).seconds
        progress("waiting for late successes and their refunds")
        let lateExpected = provider.stats().pending
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let row = try await pool.query(
                """
                SELECT count(*) FILTER (WHERE reason = 'late_success'), count(*) FILTER (WHERE status = 'pending') FROM refunds
                """)[0]
            if try row.int(0) >= lateExpected && row.int(1) == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        workerTask.cancel()
        try? await workerTask.value
        try await QueueBenchmark.deleteKeys(redis, prefix: prefix)

        let paid = try await pool.query("SELECT count(*) FROM orders WHERE status = 'paid'")[0].int(0)
        let late = try await pool.query(
            """
            SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM refunds WHERE reason = 'late_success'
            """)[0]
        let paidOrders = Set(try await pool.query("SELECT id FROM orders WHERE status = 'paid'").map { try $0.int(0) })
        let keptWithoutUnit = provider.keptByOrder().filter { $0.value > 0 && !paidOrders.contains($0.key) }.count
        let stats = provider.stats()
        return Result(
            orders: parameters.orders, latency_ms: parameters.latencyMilliseconds, concurrency: parameters.concurrency,
            charges_per_s: rounded(Double(parameters.orders) / elapsed, 0), elapsed_s: rounded(elapsed),
            paid: paid, provider_charges: stats.chargesSucceeded,
            double_charges: stats.doubleChargedKeys + stats.doubleChargedOrders,
            sequential_limit_per_s: rounded(1000 / Double(max(1, parameters.latencyMilliseconds)), 1),
            late_successes: try late.int(0), late_successes_refunded: try late.int(1),
            kept_without_unit: keptWithoutUnit, double_refunds: stats.doubleRefunds)
    }
}
