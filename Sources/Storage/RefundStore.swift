import Postgres
import ShopDomain

/// Refunds (docs/payments.md, "Refunds"): one per order, created when money was taken for a unit the
/// customer does not hold (a late success, an operator's refund, a cancelled drop) and completed by the
/// refund job's answer or the provider's `refund.succeeded` / `refund.failed` callback.
public enum RefundStore {
    /// What the refund job needs to send `refund.requested`.
    public struct Context: Sendable, Equatable {
        public let orderID: Int
        public let paymentID: String
        public let amountCents: Int
        public let currency: String
        /// The refund's own `webhook-id` / `Idempotency-Key`, stable across retries.
        public let webhookID: String
        /// `pending`, `succeeded` or `failed`.
        public let status: String
        /// `queued`, `awaiting_callback` or `done`.
        public let state: String
    }

    public static func context(_ connection: PostgresConnection, orderID: Int) throws -> Context? {
        let rows = try connection.query(
            """
            SELECT payment_id, amount_cents, currency, webhook_id, status, refund_state FROM refunds WHERE order_id = $1
            """, [.int(orderID)])
        guard let row = rows.first else { return nil }
        return Context(
            orderID: orderID, paymentID: try row.string(0), amountCents: try row.int(1), currency: try row.string(2),
            webhookID: try row.string(3), status: try row.string(4), state: try row.string(5))
    }

    /// The provider's final word on a refund. An operator's refund moves its order from
    /// `refund_pending` to `refunded`; a late success's order keeps its status (it never held the
    /// unit). Returns false when the refund was already final (a repeat changes nothing).
    @discardableResult
    public static func complete(
        _ connection: PostgresConnection, orderID: Int, succeeded: Bool, refundID: String?, failure: String?
    ) throws -> Bool {
        let rows = try connection.query(
            """
            UPDATE refunds
            SET status = $2, refund_state = 'done', refund_id = coalesce($3, refund_id), failure = $4, completed_at = now()
            WHERE order_id = $1 AND status = 'pending'
            RETURNING order_id
            """, [.int(orderID), .text(succeeded ? "succeeded" : "failed"), .text(refundID), .text(failure)])
        guard rows.count == 1 else { return false }
        if succeeded {
            try connection.query(
                "UPDATE orders SET status = 'refunded', updated_at = now() WHERE id = $1 AND status = 'refund_pending'",
                [.int(orderID)])
        }
        return true
    }

    /// The provider answered `pending`: its callback finishes the refund.
    public static func awaitCallback(_ connection: PostgresConnection, orderID: Int, refundID: String?) throws {
        try connection.query(
            """
            UPDATE refunds SET refund_state = 'awaiting_callback', refund_id = coalesce($2, refund_id)
            WHERE order_id = $1 AND status = 'pending' AND refund_state = 'queued'
            """, [.int(orderID), .text(refundID)])
    }

    /// Refunds whose job must (re)send them, older than `minimumAgeSeconds` (younger ones are
    /// still being handed to the queue by whoever created them), for the scheduler's reconcile.
    public static func queued(_ connection: PostgresConnection, minimumAgeSeconds: Int) throws -> [Int] {
        try connection.query(
            """
            SELECT order_id FROM refunds
            WHERE status = 'pending' AND refund_state = 'queued' AND requested_at <= now() - make_interval(secs => $1)
            ORDER BY order_id
            """, [.int(minimumAgeSeconds)]
        ).map { try $0.int(0) }
    }

    /// Creates the refunds of `orderIDs` (each already charged) for `reason`; returns the orders
    /// that got one now (an order refunded before keeps its refund).
    static func create(
        _ connection: PostgresConnection, orderIDs: [Int], reason: String, requestedBy: Int?
    ) throws -> [Int] {
        guard !orderIDs.isEmpty else { return [] }
        return try connection.query(
            """
            INSERT INTO refunds (order_id, webhook_id, payment_id, amount_cents, currency, reason, requested_by)
            SELECT o.id, 'rf_' || o.webhook_id, o.payment_id, o.amount_cents, o.currency, $2, $3
            FROM orders o WHERE o.id = ANY($1::bigint[]) AND o.payment_id IS NOT NULL AND o.amount_cents > 0
            ORDER BY o.id
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """, [.intArray(orderIDs), .text(reason), .int(requestedBy)]
        ).map { try $0.int(0) }
    }
}
