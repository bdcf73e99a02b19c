import Postgres
import ShopDomain

/// Reads of orders for the payment jobs.
public enum OrderStore {
    /// What the charge and expiry jobs need to know about an order.
    public struct ChargeContext: Sendable, Equatable {
        public let orderID: Int
        public let dropID: Int
        public let userID: Int
        public let status: OrderStatus
        public let chargeState: ChargeState
        public let amountCents: Int
        public let currency: String
        public let webhookID: String
        /// How long the payment window has left, by the database clock (the one the expiry is
        /// recorded in); zero or less once it has ended.
        public let millisecondsUntilExpiry: Int
        /// Judged by the database clock too.
        public let isExpired: Bool
        /// When the payment window ends (Unix ms), for an expiry job.
        public let expiresAtMilliseconds: Int
        /// The last charge attempt got no answer (a timeout, a connection error, a 5xx): the
        /// provider may have charged. Only a definitive answer to the same key clears it.
        public let chargeInDoubt: Bool
        /// A refund exists for the order (its money is already on its way back).
        public let hasRefund: Bool
    }

    public static func chargeContext(_ connection: PostgresConnection, orderID: Int) throws -> ChargeContext? {
        let rows = try connection.query("""
            SELECT drop_id, user_id, status, charge_state, amount_cents, currency, webhook_id,
                   (extract(epoch FROM expires_at - now()) * 1000)::bigint, now() >= expires_at,
                   (extract(epoch FROM expires_at) * 1000)::bigint,
                   coalesce((SELECT a.outcome = 'retryable' FROM charge_attempts a WHERE a.order_id = o.id
                             ORDER BY a.id DESC LIMIT 1), false),
                   EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
            FROM orders o WHERE id = $1
            """, [.int(orderID)])
        guard let row = rows.first else { return nil }
        guard let status = OrderStatus(rawValue: try row.string(2)) else {
            throw PostgresError(code: .decoding, message: "order \(orderID) has an unknown status")
        }
        guard let chargeState = ChargeState(rawValue: try row.string(3)) else {
            throw PostgresError(code: .decoding, message: "order \(orderID) has an unknown charge state")
        }
        return ChargeContext(
            orderID: orderID, dropID: try row.int(0), userID: try row.int(1), status: status,
            chargeState: chargeState, amountCents: try row.int(4), currency: try row.string(5),
            webhookID: try row.string(6), millisecondsUntilExpiry: try row.int(7), isExpired: try row.bool(8),
            expiresAtMilliseconds: try row.int(9), chargeInDoubt: try row.bool(10), hasRefund: try row.bool(11))
    }

    /// Orders that ended without a sale (failed, expired, cancelled) while their last charge
    /// attempt got no answer, so the provider may have charged: the charge job asks again under
    /// the same key (the scheduler's reconcile enqueues it). Recent ones only: the provider keeps
    /// an Idempotency-Key for a day or so.
    public static func chargesInDoubt(_ connection: PostgresConnection, minimumAgeSeconds: Int) throws -> [Int] {
        try connection.query("""
            SELECT o.id FROM orders o
            WHERE o.status IN ('failed', 'expired', 'cancelled') AND o.amount_cents > 0
              AND o.updated_at > now() - interval '1 day' AND o.updated_at <= now() - make_interval(secs => $1)
              AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
              AND (SELECT a.outcome FROM charge_attempts a WHERE a.order_id = o.id ORDER BY a.id DESC LIMIT 1) = 'retryable'
            ORDER BY o.id
            """, [.int(minimumAgeSeconds)]).map { try $0.int(0) }
    }

    /// Logs a provider answer that settles nothing (a retryable error), for the audit trail.
    public static func logRetryableAttempt(
        _ connection: PostgresConnection, orderID: Int, attempt: Int, httpStatus: Int?, detail: String, latencyMilliseconds: Int? = nil
    ) throws {
        try connection.query("""
            INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, detail, latency_ms)
            VALUES ($1, $2, 'retryable', $3, $4, $5)
            """, [.int(orderID), .int(attempt), .int(httpStatus), .text(detail), .int(latencyMilliseconds)])
    }
}
