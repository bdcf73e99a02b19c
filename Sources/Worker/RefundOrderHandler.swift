import JobQueue
import Postgres
import ShopJobs
import Storage

/// `order.refund`: pays back one order's charge through the payment webhook (docs/payments.md,
/// "Refunds") and records the answer. Retryable answers retry with backoff (a `Retry-After` bounded by
/// the backoff cap); a refund still unsent when the attempts run out stays `queued`, and the scheduler's
/// reconcile enqueues it again: money owed is never forgotten.
struct RefundOrderHandler: JobHandler {
    let pool: PostgresPool
    let payments: PaymentClient
    let backoffCapMilliseconds: Int

    func handle(_ context: JobContext) async throws {
        guard case .refundOrder(let orderID)? = ShopJob(kind: context.kind, payload: context.payload) else {
            throw PermanentJobFailure("order.refund payload is not {\"order_id\": …}")
        }
        guard let refund = try await pool.withConnection({ try RefundStore.context($0, orderID: orderID) }) else {
            throw PermanentJobFailure("order \(orderID) has no refund")
        }
        // Done, or waiting for the provider's callback.
        guard refund.status == "pending", refund.state == "queued" else { return }
        let answer = await payments.refund(
            PaymentClient.Refund(
                orderID: orderID, paymentID: refund.paymentID, amountCents: refund.amountCents, currency: refund.currency,
                webhookID: refund.webhookID))
        switch answer {
        case .refunded(let refundID, _):
            try await pool.transaction { try RefundStore.complete($0, orderID: orderID, succeeded: true, refundID: refundID, failure: nil) }
        case .pending(let refundID, _):
            try await pool.withConnection { try RefundStore.awaitCallback($0, orderID: orderID, refundID: refundID) }
        case .refused(let status):
            try await pool.transaction {
                try RefundStore.complete(
                    $0, orderID: orderID, succeeded: false, refundID: nil, failure: "the provider refused the refund (\(status))")
            }
        case .retryable(_, let retryAfter, let reason):
            throw RetryLater(afterMilliseconds: max(0, min(retryAfter ?? 0, backoffCapMilliseconds)), reason: reason)
        }
    }
}
