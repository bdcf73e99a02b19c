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
        /// `queued`, `awaiting_callback` or `done`.
        public let chargeState: String
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
    }

    public static func chargeContext(_ connection: PostgresConnection, orderID: Int) throws -> ChargeContext? {
        let rows = try connection.query("""
            SELECT drop_id, user_id, status, charge_state, amount_cents, currency, webhook_id,
                   (extract(epoch FROM expires_at - now()) * 1000)::bigint, now() >= expires_at,
                   (extract(epoch FROM expires_at) * 1000)::bigint
            FROM orders WHERE id = $1
            """, [.int(orderID)])
        guard let row = rows.first else { return nil }
        guard let status = OrderStatus(rawValue: try row.string(2)) else {
            throw PostgresError(code: .decoding, message: "order \(orderID) has an unknown status")
        }
        return ChargeContext(
            orderID: orderID, dropID: try row.int(0), userID: try row.int(1), status: status,
            chargeState: try row.string(3), amountCents: try row.int(4), currency: try row.string(5),
            webhookID: try row.string(6), millisecondsUntilExpiry: try row.int(7), isExpired: try row.bool(8),
            expiresAtMilliseconds: try row.int(9))
    }

    /// Logs a provider answer that settles nothing (a retryable error), for the audit trail.
    public static func logRetryableAttempt(
        _ connection: PostgresConnection, orderID: Int, attempt: Int, httpStatus: Int?, detail: String
    ) throws {
        try connection.query("""
            INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, detail)
            VALUES ($1, $2, 'retryable', $3, $4)
            """, [.int(orderID), .int(attempt), .int(httpStatus), .text(detail)])
    }
}
