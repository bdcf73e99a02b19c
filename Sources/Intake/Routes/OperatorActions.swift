import JobQueue
import Logging
import OpenRunGate
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// The operator's money actions (docs/payments.md, "Refunds"): refund a paid order, cancel a drop. One
/// place for both the JSON API (``OperatorActionRoutes``) and the console's forms, so the two cannot
/// drift. Both idempotent (a repeat answers the same state and changes nothing); who and when are
/// recorded with the refund (`refunds.requested_by`, `requested_at`) and on the drop (`cancelled_by`,
/// `cancelled_at`).
struct OperatorActions: Sendable {
    let pool: PostgresPool
    let drops: DropStore
    let queue: JobQueue
    let gate: AdmissionGate
    let paymentWindowSeconds: Int
    let followUp: SettlementFollowUp
    let localReads: CacheInvalidations

    /// Refunds a paid order; the order as it is afterwards (`refund_pending`, or as a repeat found it).
    func refund(orderID id: Int, operatorID: Int, logger: Logger) async throws -> Order {
        let result = try await pool.withConnection { [paymentWindowSeconds] connection in
            try OperatorRefund.refund(connection, orderID: id, operatorID: operatorID, paymentWindowSeconds: paymentWindowSeconds)
        }
        switch result {
        case .notFound:
            throw Problem.notFound("order")
        case .notPaid(let status):
            throw Problem(.notPaid, "only a paid order can be refunded; this one is \(status.rawValue)")
        case .refunding(let order, let effect, _):
            // Committed; a failure here is repaired by the scheduler's reconcile (refund jobs,
            // promoted charges) and the gate's (units back on sale).
            do {
                try await followUp.run([effect])
            } catch {
                logger.warning("refund follow-up failed; reconcile will repair it", metadata: ["error": "\(error)"])
            }
            return order
        }
    }

    /// Cancels a drop that is not final yet; the drop as it is afterwards.
    func cancel(dropID id: Int, operatorID: Int, logger: Logger) async throws -> DropOverview {
        let result = try await pool.withConnection { connection in
            try DropCancellation.cancel(connection, dropID: id, operatorID: operatorID)
        }
        await localReads.publish(CacheInvalidations.dropKey(id))
        switch result {
        case .notFound:
            throw Problem.notFound("drop")
        case .final:
            throw Problem(.dropFinal, "this drop is settled; refund its orders one by one")
        case .cancelled(let kind, let refunds):
            do {
                if kind == .openRun { try await gate.close(dropID: id) }
                try await queue.enqueue(refunds.map { ShopJob.refundOrder(orderID: $0) })
            } catch {
                logger.warning("cancel follow-up failed; reconcile will repair it", metadata: ["error": "\(error)"])
            }
        case .alreadyCancelled(let kind):
            // The gate may have missed the first close (Redis down then): closing again is harmless.
            if kind == .openRun { try? await gate.close(dropID: id) }
        }
        guard let drop = try await drops.fetch(id: id) else { throw Problem.notFound("drop") }
        return drop
    }
}
