import CurlHTTP
import JobQueue
import Logging
import Postgres
import ShopDomain
import ShopJobs
import Storage
import Testing
import Worker

/// Every pending order has an expiry whatever its charge state: a charge that keeps being
/// retried (a provider that is down, or one that asks for a long `Retry-After`) still ends when
/// the payment window does.
@Suite struct BoundedWaitTests {
    @Test func aQueuedOrderWhoseChargeIsRetriedGetsItsExpiryAndExpiresWithTheWindow() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                let closed = try ClosedPort()
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 1, closesIn: nil)
                let customer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                let order = try await pool.withConnection { connection in
                    try connection.transaction { transaction in
                        try transaction.query("UPDATE drops SET available = 0, held = 1 WHERE id = $1", [.int(drop)])
                        return try transaction.query(
                            """
                            INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at)
                            VALUES ($1, $2, 1000, 'EUR', now() + interval '3 seconds') RETURNING id
                            """, [.int(drop), .int(customer)])[0].int(0)
                    }
                }
                let definition = { (kind: String) in
                    JobDefinition(
                        kind: kind, queue: "payments", timeoutSeconds: 30, maxAttempts: 100,
                        backoffBaseMilliseconds: 100, backoffCapMilliseconds: 30_000, visibilityTimeoutSeconds: 10)
                }
                let queue = JobQueue(
                    redis: redis, catalog: JobCatalog([definition(ShopJob.chargeOrderKind), definition(ShopJob.expireOrderKind)]),
                    keyPrefix: prefix)
                let http = CurlHTTPClient(name: "bounded-wait-test")
                defer { http.shutdown() }
                let payments = PaymentClient(
                    configuration: .init(
                        url: "http://127.0.0.1:\(closed.number)/v1/charges", secret: String(repeating: "s", count: 32),
                        timeoutMilliseconds: 1000, connectTimeoutMilliseconds: 1000),
                    http: http)
                let handlers = WorkerHandlers.make(
                    .init(
                        pool: pool, redis: redis, queue: queue, payments: payments, paymentWindowSeconds: 900, returnUnits: nil))
                let charge = try #require(handlers[ShopJob.chargeOrderKind])
                do {
                    try await charge.run(.chargeOrder(orderID: order), maxAttempts: 100)
                    Issue.record("a refused connection was not retried")
                } catch let retry as RetryLater {
                    // Never past what is left of the three-second window.
                    #expect(retry.afterMilliseconds <= 3_000, "\(retry.afterMilliseconds) ms")
                }
                // The retry enqueued the order's expiry: its unique key is taken.
                let expiresAt = try await pool.query(
                    "SELECT (extract(epoch FROM expires_at) * 1000)::bigint FROM orders WHERE id = $1", [.int(order)])[0].int(0)
                #expect(try await queue.enqueue([ShopJob.expireOrder(orderID: order, atMilliseconds: expiresAt)]) == 0)

                // Once the window has ended, the expiry releases the unit whatever the charge is doing.
                try await pool.query("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1", [.int(order)])
                let expire = try #require(handlers[ShopJob.expireOrderKind])
                try await expire.run(.expireOrder(orderID: order, atMilliseconds: expiresAt), maxAttempts: 100)
                let status = try await pool.query("SELECT status FROM orders WHERE id = $1", [.int(order)])[0].string(0)
                #expect(status == "expired")
                let figures = try await pool.query("SELECT available, held FROM drops WHERE id = $1", [.int(drop)])[0]
                #expect(try figures.int(0) == 1 && figures.int(1) == 0)
            }
        }
    }
}
