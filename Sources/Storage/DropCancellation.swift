import Postgres
import ShopDomain

/// `POST /v1/drops/{id}/cancel` (docs/payments.md, "Refunds"): the drop becomes `cancelled` (its state
/// machine and trigger allow it from every status but `settled`); unpaid orders are voided (`cancelled`,
/// their queued charges find nothing to do), paid orders are refunded, and every unit is back in
/// `available` with nobody to sell it to. Who cancelled and when are kept on the drop. Idempotent:
/// cancelling a cancelled drop changes nothing.
public enum DropCancellation {
    public enum Result: Sendable, Equatable {
        /// Cancelled now, with the orders whose refunds need a job.
        case cancelled(kind: DropKind, refunds: [Int])
        case alreadyCancelled(kind: DropKind)
        /// Settled drops are final: refund their orders one by one instead.
        case final
        case notFound
    }

    public static func cancel(_ connection: PostgresConnection, dropID: Int, operatorID: Int) throws -> Result {
        try connection.transaction { transaction in
            // Live orders first, then the drop: the lock order of settlements (orders, then
            // their drop), so a cancel and a settlement batch never wait on each other in a cycle.
            try transaction.query(
                """
                SELECT id FROM orders WHERE drop_id = $1 AND status IN ('pending_payment', 'paid') ORDER BY id FOR UPDATE
                """, [.int(dropID)])
            // The close job commits its draw under this lock too: a cancel either comes before
            // it (the draw then finds the drop no longer closing) or after (its orders are voided).
            let locked = try transaction.query("SELECT kind, status FROM drops WHERE id = $1 FOR UPDATE", [.int(dropID)])
            guard let row = locked.first else { return .notFound }
            guard let kind = DropKind(rawValue: try row.string(0)), let status = DropStatus(rawValue: try row.string(1)) else {
                throw PostgresError(code: .decoding, message: "drop \(dropID) has an unknown kind or status")
            }
            if status == .cancelled { return .alreadyCancelled(kind: kind) }
            guard status.canMove(to: .cancelled, kind: kind) else { return .final }
            try transaction.query(
                """
                UPDATE orders SET status = 'cancelled', charge_state = \(ChargeState.done.sql), failure = 'the drop was cancelled', updated_at = now()
                WHERE drop_id = $1 AND status = 'pending_payment'
                """, [.int(dropID)])
            let paid = try transaction.query(
                """
                UPDATE orders SET status = CASE WHEN amount_cents = 0 THEN 'refunded' ELSE 'refund_pending' END, updated_at = now()
                WHERE drop_id = $1 AND status = 'paid'
                RETURNING id
                """, [.int(dropID)]
            ).map { try $0.int(0) }
            let refunds = try RefundStore.create(transaction, orderIDs: paid, reason: "drop_cancelled", requestedBy: operatorID)
            try transaction.query(
                """
                UPDATE drops
                SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, available = stock, held = 0, sold = 0,
                    updated_at = now()
                WHERE id = $1
                """, [.int(dropID), .int(operatorID)])
            return .cancelled(kind: kind, refunds: refunds)
        }
    }
}
