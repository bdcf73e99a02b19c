import CurlHTTP
import Foundation
import JobQueue
import Logging
import MockPayments
import Postgres
import ShopDomain
import ShopJobs
import Storage
import Testing
import Worker

/// The `order.refund` job against the real mock provider: `refund.requested` signed like a
/// charge under its own stable key; the provider's ledger never refunds more than was charged
/// and counts a second refund of an order; the money the provider keeps follows the units.
@Suite struct RefundFlowTests {
    @Test func aLateSuccessIsPaidBackOnceAndTheProviderKeepsNothingForIt() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                try await withMockProvider(mockConfiguration()) { _, client in
                    let catalog = try JobCatalog.load(directory: ShopProcess.repositoryRoot + "/jobs")
                    let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
                    let http = CurlHTTPClient(name: "refund-flow-test")
                    defer { http.shutdown() }
                    let payments = PaymentClient(
                        configuration: .init(
                            url: client.chargeURL, secret: client.secret, timeoutMilliseconds: 10_000,
                            connectTimeoutMilliseconds: 2000),
                        http: http)
                    let handlers = WorkerHandlers.make(
                        .init(
                            pool: pool, redis: redis, queue: queue, payments: payments, paymentWindowSeconds: 900, returnUnits: nil))
                    let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 2, closesIn: nil)
                    let buyers = try await DropFixtures.insertCustomers(pool, count: 2)
                    let kept = try await MoneyFixtures.openRunOrder(pool, dropID: drop, userID: buyers[0], paid: false)
                    let late = try await MoneyFixtures.openRunOrder(pool, dropID: drop, userID: buyers[1], paid: false)
                    let charge = try #require(handlers[ShopJob.chargeOrderKind])
                    try await charge.run(.chargeOrder(orderID: kept))
                    // The second order's window ends while its charge is in flight: the charge
                    // goes through at the provider, the order has expired meanwhile.
                    let context = try #require(try await pool.withConnection { try OrderStore.chargeContext($0, orderID: late) })
                    let answer = await payments.charge(
                        PaymentClient.Charge(
                            orderID: late, dropID: drop, userID: buyers[1], amountCents: context.amountCents,
                            currency: context.currency, webhookID: context.webhookID))
                    guard case .succeeded(let paymentID, _) = answer else { throw TestFailure("charge: \(answer)") }
                    let settler = PaymentSettler(pool: pool, paymentWindowSeconds: 900, followUp: SettlementFollowUp(queue: queue))
                    try await settler.settle(Settlement(orderID: late, outcome: .expired))
                    try await settler.settle(Settlement(orderID: late, outcome: .paid(paymentID: paymentID), attempt: 1, httpStatus: 200))

                    let refund = try #require(handlers[ShopJob.refundOrderKind])
                    // The refund job was enqueued by the settlement's follow-up.
                    #expect(try await queue.enqueue([ShopJob.refundOrder(orderID: late)]) == 0)
                    try await refund.run(.refundOrder(orderID: late))
                    // Redelivered: the refund is done, nothing is sent again.
                    try await refund.run(.refundOrder(orderID: late), attempt: 2)
                    let row = try await pool.query("SELECT status, refund_id IS NOT NULL FROM refunds WHERE order_id = $1", [.int(late)])[0]
                    #expect(try row.string(0) == "succeeded" && row.bool(1))

                    let stats = try await client.stats()
                    #expect(stats.refunds == 1 && stats.doubleRefunds == 0 && stats.refundedCents == context.amountCents)
                    // The same refund again under the same key is a replay; under another key it
                    // would pay twice: the ledger refuses it and counts it.
                    let refundContext = try #require(try await pool.withConnection { try RefundStore.context($0, orderID: late) })
                    let replay = await payments.refund(
                        PaymentClient.Refund(
                            orderID: late, paymentID: paymentID, amountCents: refundContext.amountCents, currency: refundContext.currency,
                            webhookID: refundContext.webhookID))
                    guard case .refunded = replay else { throw TestFailure("replay: \(replay)") }
                    let second = await payments.refund(
                        PaymentClient.Refund(
                            orderID: late, paymentID: paymentID, amountCents: refundContext.amountCents, currency: refundContext.currency,
                            webhookID: "rf_other"))
                    #expect(second == .refused(httpStatus: 422))
                    let after = try await client.stats()
                    #expect(after.refunds == 1 && after.doubleRefunds == 1)

                    // Money follows units: the paid customer's charge is kept, the late one's is not.
                    let ledger =
                        try JSONSerialization.jsonObject(with: Data(try await client.get(client.baseURL + "/v1/ledger").body)) as? [String: Int]
                    #expect(ledger?[String(buyers[0])] == context.amountCents && ledger?[String(buyers[1])] == 0)
                    #expect(try await MoneyFixtures.audit(pool) == [])
                }
            }
        }
    }

    /// A charge whose answer never came (held back past the client's timeout) may have gone
    /// through. When its order ends unsold, the charge job asks again under the same key: the
    /// provider's success is found, recorded and refunded.
    @Test func aChargeInDoubtIsVerifiedAndItsSuccessRefunded() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                try await withMockProvider(
                    mockConfiguration {
                        $0.timeoutRate = 1
                        $0.timeoutHoldMilliseconds = 8000
                    }
                ) { _, client in
                    let queue = JobQueue(
                        redis: redis, catalog: try JobCatalog.load(directory: ShopProcess.repositoryRoot + "/jobs"), keyPrefix: prefix)
                    let http = CurlHTTPClient(name: "doubt-test")
                    defer { http.shutdown() }
                    let payments = PaymentClient(
                        configuration: .init(
                            url: client.chargeURL, secret: client.secret, timeoutMilliseconds: 2000, connectTimeoutMilliseconds: 2000),
                        http: http)
                    let handlers = WorkerHandlers.make(
                        .init(
                            pool: pool, redis: redis, queue: queue, payments: payments, paymentWindowSeconds: 900, returnUnits: nil))
                    let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 1, closesIn: nil)
                    let buyer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                    let order = try await MoneyFixtures.openRunOrder(pool, dropID: drop, userID: buyer, paid: false)
                    let charge = try #require(handlers[ShopJob.chargeOrderKind])
                    await #expect(throws: RetryLater.self) { try await charge.run(.chargeOrder(orderID: order)) }
                    // (On a loaded machine the provider may take a while to get to the request.)
                    try await eventually("the provider charged, holding its answer back") {
                        try await !client.charges(orderID: order).isEmpty
                    }
                    // The window ends before the answer is learnt.
                    try await pool.query("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1", [.int(order)])
                    let doubts = try await pool.withConnection { try OrderStore.chargesInDoubt($0, minimumAgeSeconds: 0) }
                    #expect(doubts.isEmpty, "still pending: not in doubt yet")
                    // The retry finds the window over: it expires the order, then asks the provider.
                    try await charge.run(.chargeOrder(orderID: order), attempt: 2)
                    #expect(try await pool.query("SELECT status FROM orders WHERE id = $1", [.int(order)])[0].string(0) == "expired")
                    let refund = try await pool.query("SELECT reason FROM refunds WHERE order_id = $1", [.int(order)])
                    #expect(try refund.first?.string(0) == "late_success")
                    #expect(try await MoneyFixtures.audit(pool) == [])
                    #expect(try await pool.withConnection { try OrderStore.chargesInDoubt($0, minimumAgeSeconds: 0) } == [])
                }
            }
        }
    }

    /// The last attempt gets no answer: the order fails, its charge stays in doubt, and the
    /// scheduler's reconcile finds it (`chargesInDoubt`) for the charge job to ask again.
    @Test func aLastAttemptWithoutAnAnswerLeavesTheChargeInDoubt() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                let closed = try ClosedPort()
                let queue = JobQueue(redis: redis, catalog: try JobCatalog.load(directory: ShopProcess.repositoryRoot + "/jobs"), keyPrefix: prefix)
                let http = CurlHTTPClient(name: "doubt-test-2")
                defer { http.shutdown() }
                let payments = PaymentClient(
                    configuration: .init(
                        url: "http://127.0.0.1:\(closed.number)/v1/charges", secret: String(repeating: "s", count: 32),
                        timeoutMilliseconds: 500, connectTimeoutMilliseconds: 500),
                    http: http)
                let handlers = WorkerHandlers.make(
                    .init(
                        pool: pool, redis: redis, queue: queue, payments: payments, paymentWindowSeconds: 900, returnUnits: nil))
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 1, closesIn: nil)
                let buyer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                let order = try await MoneyFixtures.openRunOrder(pool, dropID: drop, userID: buyer, paid: false)
                let charge = try #require(handlers[ShopJob.chargeOrderKind])
                try await charge.run(.chargeOrder(orderID: order), attempt: 8, maxAttempts: 8)
                #expect(try await pool.query("SELECT status FROM orders WHERE id = $1", [.int(order)])[0].string(0) == "failed")
                #expect(try await pool.withConnection { try OrderStore.chargesInDoubt($0, minimumAgeSeconds: 0) } == [order])
            }
        }
    }
}
