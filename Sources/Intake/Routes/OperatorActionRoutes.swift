import Hummingbird
import JobQueue
import Logging
import OpenRunGate
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// The operator's money actions (SPEC §3): refund a paid order, cancel a drop. Both idempotent
/// (a repeat answers the same state and changes nothing); who and when are recorded with the
/// refund (`refunds.requested_by`, `requested_at`) and on the drop (`cancelled_by`, `cancelled_at`).
struct OperatorActionRoutes: RouteGroup {
    let pool: PostgresPool
    let drops: DropStore
    let queue: JobQueue
    let gate: AdmissionGate
    let paymentWindowSeconds: Int
    let followUp: SettlementFollowUp

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/orders/{id}/refund", refund)
        routes.add(.post, "/v1/drops/{id}/cancel", cancel)
    }

    @Sendable func refund(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.operator)
        let id = try context.id(of: "order")
        let result = try await pool.withConnection { [paymentWindowSeconds] connection in
            try OperatorRefund.refund(connection, orderID: id, operatorID: user.id, paymentWindowSeconds: paymentWindowSeconds)
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
                context.logger.warning("refund follow-up failed; reconcile will repair it", metadata: ["error": "\(error)"])
            }
            return try .json(OrderDocument(order))
        }
    }

    @Sendable func cancel(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.operator)
        let id = try context.id(of: "drop")
        let result = try await pool.withConnection { connection in
            try DropCancellation.cancel(connection, dropID: id, operatorID: user.id)
        }
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
                context.logger.warning("cancel follow-up failed; reconcile will repair it", metadata: ["error": "\(error)"])
            }
        case .alreadyCancelled(let kind):
            // The gate may have missed the first close (Redis down then): closing again is harmless.
            if kind == .openRun { try? await gate.close(dropID: id) }
        }
        guard let drop = try await drops.fetch(id: id) else { throw Problem.notFound("drop") }
        return try .json(DropDocument(drop))
    }
}
