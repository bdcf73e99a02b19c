import JobQueue
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// `order.expire`: an order still pending when its payment window ends expires, releasing its
/// unit (to the next waitlisted entrant, or back on sale).
struct ExpireOrderHandler: JobHandler {
    let pool: PostgresPool
    let settler: PaymentSettler
    /// An order the provider answered `pending` waits this much longer for its callback: a
    /// success that arrives a little late then sells the unit instead of being refunded.
    let callbackGraceMilliseconds: Int

    func handle(_ context: JobContext) async throws {
        guard case .expireOrder(let orderID, _)? = ShopJob(kind: context.kind, payload: context.payload) else {
            throw PermanentJobFailure("order.expire payload is not {\"order_id\": …, \"at_ms\": …}")
        }
        guard let order = try await pool.withConnection({ try OrderStore.chargeContext($0, orderID: orderID) }) else {
            throw PermanentJobFailure("order \(orderID) does not exist")
        }
        guard order.status == .pendingPayment else { return }
        let grace = order.chargeState == .awaitingCallback ? callbackGraceMilliseconds : 0
        guard order.isExpired, order.millisecondsUntilExpiry + grace <= 0 else {
            // Promoted early (Redis's clock, which promotes, runs ahead of the database's, which
            // decides), or in the callback's grace: come back when the database says it is due.
            let wait = max(100, order.millisecondsUntilExpiry + grace)
            throw RetryLater(afterMilliseconds: wait, reason: "order \(orderID) expires in \(wait) ms")
        }
        try await settler.settle(Settlement(orderID: orderID, outcome: .expired))
    }
}
