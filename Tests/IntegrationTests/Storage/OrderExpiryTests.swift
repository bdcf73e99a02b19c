import JobQueue
import Logging
import Postgres
import ShopDomain
import ShopJobs
import Storage
import Testing
import Worker

/// An order's payment window is judged by the database's clock alone: the expiry job, which
/// Redis's clock promotes, asks the database how long is left instead of comparing the two.
@Suite struct OrderExpiryTests {
    @Test func theTimeLeftInAPaymentWindowComesFromTheDatabaseClock() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 2, closesIn: nil)
            let customers = try await DropFixtures.insertCustomers(pool, count: 2)
            var orders: [Int] = []
            for (customer, window) in zip(customers, ["1 hour", "-1 second"]) {
                orders.append(
                    try await pool.query(
                        """
                        INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                        VALUES ($1, $2, 1000, 'EUR', $3, now() + $4::interval)
                        RETURNING id
                        """, [.int(drop), .int(customer), .text("wh_\(drop)_\(customer)"), .text(window)])[0].int(0))
            }
            let (openID, endedID) = (orders[0], orders[1])
            let open = try #require(try await pool.withConnection { try OrderStore.chargeContext($0, orderID: openID) })
            #expect(!open.isExpired)
            #expect(open.millisecondsUntilExpiry > 3_590_000 && open.millisecondsUntilExpiry <= 3_600_000)
            let ended = try #require(try await pool.withConnection { try OrderStore.chargeContext($0, orderID: endedID) })
            #expect(ended.isExpired)
            #expect(ended.millisecondsUntilExpiry <= -1_000)
        }
    }

    /// An expiry job that runs before the window has ended by the database's clock (Redis's
    /// clock, which promoted it, runs ahead) expires nothing and comes back when the database
    /// says the window ends.
    @Test func anExpiryJobRunEarlyWaitsForTheDatabasesEndOfTheWindow() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 1, closesIn: nil)
                let customer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                let order = try await pool.query(
                    """
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                    VALUES ($1, $2, 1000, 'EUR', 'wh_early', now() + interval '30 seconds')
                    RETURNING id
                    """, [.int(drop), .int(customer)])[0].int(0)
                let catalog = JobCatalog([
                    JobDefinition(
                        kind: ShopJob.expireOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 10,
                        backoffBaseMilliseconds: 1000, backoffCapMilliseconds: 60_000, visibilityTimeoutSeconds: 10)
                ])
                let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
                let handlers = WorkerHandlers.make(
                    .init(
                        pool: pool, redis: redis, queue: queue, payments: nil, paymentWindowSeconds: 900, returnUnits: nil))
                let early = ShopJob.expireOrder(orderID: order, atMilliseconds: 0)
                let job = Job(
                    id: "early", kind: ShopJob.expireOrderKind, queue: "payments", attempt: 1, maxAttempts: 10,
                    visibilityMilliseconds: 10_000, enqueuedAtMilliseconds: 1, uniqueKey: nil, payload: early.payload)
                let handler = try #require(handlers[ShopJob.expireOrderKind])
                do {
                    try await handler.handle(JobContext(job: job, logger: Logger(label: "test")))
                    Issue.record("an order with 30 seconds left was expired")
                } catch let retry as RetryLater {
                    // (Bounds loose enough for a machine slowed by the rest of the suite.)
                    #expect(retry.afterMilliseconds > 20_000 && retry.afterMilliseconds <= 30_000, "\(retry.afterMilliseconds) ms")
                }
                let status = try await pool.query("SELECT status FROM orders WHERE id = $1", [.int(order)])[0].string(0)
                #expect(status == "pending_payment")
            }
        }
    }
}
