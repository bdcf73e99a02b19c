import JobQueue
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// `order.charge`: charges one order through the payment webhook and settles the answer.
///
/// Retryable answers (408, 429, 5xx, timeouts, connection errors) retry through the queue with
/// backoff and jitter, honouring `Retry-After`; on the job's last attempt they count as failed.
struct ChargeOrderHandler: JobHandler {
    let pool: PostgresPool
    let payments: PaymentClient
    let settler: PaymentSettler
    let queue: JobQueue
    /// `order.charge`'s `backoff_cap_ms`: no provider's `Retry-After` parks a charge longer.
    let backoffCapMilliseconds: Int

    func handle(_ context: JobContext) async throws {
        guard case .chargeOrder(let orderID)? = ShopJob(kind: context.kind, payload: context.payload) else {
            throw PermanentJobFailure("order.charge payload is not {\"order_id\": …}")
        }
        guard let order = try await pool.withConnection({ try OrderStore.chargeContext($0, orderID: orderID) }) else {
            throw PermanentJobFailure("order \(orderID) does not exist")
        }
        guard order.status == .pendingPayment, order.chargeState == "queued" else {
            // Already final, or waiting for the provider's callback (the expiry job covers it).
            return
        }
        if order.isExpired {
            try await settler.settle(Settlement(orderID: orderID, outcome: .expired))
            return
        }
        let answer = await payments.charge(PaymentClient.Charge(
            orderID: orderID, dropID: order.dropID, userID: order.userID, amountCents: order.amountCents,
            currency: order.currency, webhookID: order.webhookID))
        CrashPoint.chargeAfterProvider.reached()
        switch answer {
        case .succeeded(let paymentID, let status):
            try await settler.settle(Settlement(orderID: orderID, outcome: .paid(paymentID: paymentID), attempt: context.attempt, httpStatus: status))
        case .declined(let status):
            try await settler.settle(Settlement(orderID: orderID, outcome: .failed(reason: "declined"), attempt: context.attempt, httpStatus: status))
        case .pending(let paymentID, let status):
            try await settler.settle(Settlement(orderID: orderID, outcome: .awaitingCallback(paymentID: paymentID), attempt: context.attempt, httpStatus: status))
        case .retryable(let status, let retryAfter, let reason):
            if context.job.isLastAttempt {
                try await settler.settle(Settlement(
                    orderID: orderID, outcome: .failed(reason: "payment provider unavailable: \(reason)"),
                    attempt: context.attempt, httpStatus: status))
                return
            }
            try? await pool.withConnection { connection in
                try OrderStore.logRetryableAttempt(connection, orderID: orderID, attempt: context.attempt, httpStatus: status, detail: reason)
            }
            // The order expires when its window ends even if this job is parked or lost (its
            // expiry job judges by the database clock, so an early one only waits).
            _ = try? await queue.enqueue([ShopJob.expireOrder(
                orderID: orderID, atMilliseconds: order.expiresAtMilliseconds)])
            throw RetryLater(
                afterMilliseconds: Self.boundedWait(
                    retryAfter: retryAfter, capMilliseconds: backoffCapMilliseconds,
                    windowLeftMilliseconds: order.millisecondsUntilExpiry),
                reason: reason)
        }
    }
}

extension ChargeOrderHandler {
    /// How long a retry waits at least: the provider's `Retry-After`, but never past the backoff
    /// cap nor past the end of the payment window (a retry after it only expires the order).
    static func boundedWait(retryAfter: Int?, capMilliseconds: Int, windowLeftMilliseconds: Int) -> Int {
        max(0, min(retryAfter ?? 0, capMilliseconds, windowLeftMilliseconds))
    }
}

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
        let grace = order.chargeState == "awaiting_callback" ? callbackGraceMilliseconds : 0
        guard order.isExpired, order.millisecondsUntilExpiry + grace <= 0 else {
            // Promoted early (Redis's clock, which promotes, runs ahead of the database's, which
            // decides), or in the callback's grace: come back when the database says it is due.
            let wait = max(100, order.millisecondsUntilExpiry + grace)
            throw RetryLater(afterMilliseconds: wait, reason: "order \(orderID) expires in \(wait) ms")
        }
        try await settler.settle(Settlement(orderID: orderID, outcome: .expired))
    }
}
