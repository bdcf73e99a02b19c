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
    let metrics: ChargeMetrics

    func handle(_ context: JobContext) async throws {
        guard case .chargeOrder(let orderID)? = ShopJob(kind: context.kind, payload: context.payload) else {
            throw PermanentJobFailure("order.charge payload is not {\"order_id\": …}")
        }
        guard let order = try await pool.withConnection({ try OrderStore.chargeContext($0, orderID: orderID) }) else {
            throw PermanentJobFailure("order \(orderID) does not exist")
        }
        guard order.status == .pendingPayment, order.chargeState == .queued else {
            // Waiting for the provider's callback (the expiry job covers it), or final. A final
            // order without a sale may still have been charged: by an attempt that got no answer,
            // or by a run of this job killed after sending. Ask again under the same key; a
            // success is then recorded and refunded (a late success).
            let unsold: Set<OrderStatus> = [.expired, .failed, .cancelled]
            if unsold.contains(order.status), order.amountCents > 0, !order.hasRefund, order.chargeInDoubt || context.attempt > 1 {
                try await verify(order, context: context)
            }
            return
        }
        if order.isExpired {
            try await settler.settle(Settlement(orderID: orderID, outcome: .expired))
            // An earlier run may have charged before it died or timed out: find out.
            if order.chargeInDoubt || context.attempt > 1 { try await verify(order, context: context) }
            return
        }
        let started = ContinuousClock.now
        let answer = await payments.charge(
            PaymentClient.Charge(
                orderID: orderID, dropID: order.dropID, userID: order.userID, amountCents: order.amountCents,
                currency: order.currency, webhookID: order.webhookID))
        let latency = Self.milliseconds(since: started)
        metrics.answered(.init(answer), milliseconds: latency)
        CrashPoint.chargeAfterProvider.reached()
        switch answer {
        case .succeeded(let paymentID, let status):
            try await settler.settle(
                Settlement(
                    orderID: orderID, outcome: .paid(paymentID: paymentID), attempt: context.attempt, httpStatus: status, latencyMilliseconds: latency
                ))
        case .declined(let status):
            try await settler.settle(
                Settlement(
                    orderID: orderID, outcome: .failed(reason: "declined"), attempt: context.attempt, httpStatus: status, latencyMilliseconds: latency
                ))
        case .pending(let paymentID, let status):
            try await settler.settle(
                Settlement(
                    orderID: orderID, outcome: .awaitingCallback(paymentID: paymentID), attempt: context.attempt, httpStatus: status,
                    latencyMilliseconds: latency))
        case .retryable(let status, let retryAfter, let reason):
            try? await pool.withConnection { connection in
                try OrderStore.logRetryableAttempt(
                    connection, orderID: orderID, attempt: context.attempt, httpStatus: status, detail: reason, latencyMilliseconds: latency)
            }
            if context.job.isLastAttempt {
                // The attempt stays logged as unanswered: the charge is in doubt, and the
                // scheduler's reconcile has it asked again (see `verify`).
                try await settler.settle(Settlement(orderID: orderID, outcome: .failed(reason: "payment provider unavailable: \(reason)")))
                return
            }
            // The order expires when its window ends even if this job is parked or lost (its
            // expiry job judges by the database clock, so an early one only waits).
            _ = try? await queue.enqueue([
                ShopJob.expireOrder(
                    orderID: orderID, atMilliseconds: order.expiresAtMilliseconds)
            ])
            throw RetryLater(
                afterMilliseconds: Self.boundedWait(
                    retryAfter: retryAfter, capMilliseconds: backoffCapMilliseconds,
                    windowLeftMilliseconds: order.millisecondsUntilExpiry),
                reason: reason)
        }
    }
}

extension ChargeOrderHandler {
    /// Asks the provider again, under the order's charge key, how a charge that may have gone
    /// through ended, for an order that no longer sells. The provider replays what it answered
    /// (or, if it never charged, charges now): a success is a late success, recorded and
    /// refunded by the settlement; any other answer is logged and settles the doubt.
    func verify(_ order: OrderStore.ChargeContext, context: JobContext) async throws {
        let started = ContinuousClock.now
        let answer = await payments.charge(
            PaymentClient.Charge(
                orderID: order.orderID, dropID: order.dropID, userID: order.userID, amountCents: order.amountCents,
                currency: order.currency, webhookID: order.webhookID))
        let latency = Self.milliseconds(since: started)
        metrics.answered(.init(answer), milliseconds: latency)
        switch answer {
        case .succeeded(let paymentID, let status):
            try await settler.settle(
                Settlement(
                    orderID: order.orderID, outcome: .paid(paymentID: paymentID), attempt: context.attempt, httpStatus: status,
                    latencyMilliseconds: latency))
        case .declined(let status):
            try await settler.settle(
                Settlement(
                    orderID: order.orderID, outcome: .failed(reason: "declined"), attempt: context.attempt, httpStatus: status,
                    latencyMilliseconds: latency))
        case .pending(let paymentID, let status):
            // Its callback settles it (a success then is a late success).
            try await settler.settle(
                Settlement(
                    orderID: order.orderID, outcome: .awaitingCallback(paymentID: paymentID), attempt: context.attempt, httpStatus: status,
                    latencyMilliseconds: latency))
        case .retryable(let status, let retryAfter, let reason):
            try? await pool.withConnection { connection in
                try OrderStore.logRetryableAttempt(
                    connection, orderID: order.orderID, attempt: context.attempt, httpStatus: status, detail: reason,
                    latencyMilliseconds: latency)
            }
            throw RetryLater(
                afterMilliseconds: max(0, min(retryAfter ?? 0, backoffCapMilliseconds)), reason: "verifying a charge: \(reason)")
        }
    }

    /// Whole milliseconds from `start` to now (the provider's answer time, for `charge_attempts`).
    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    /// How long a retry waits at least: the provider's `Retry-After`, but never past the backoff
    /// cap nor past the end of the payment window (a retry after it only expires the order).
    static func boundedWait(retryAfter: Int?, capMilliseconds: Int, windowLeftMilliseconds: Int) -> Int {
        max(0, min(retryAfter ?? 0, capMilliseconds, windowLeftMilliseconds))
    }
}
