import Postgres
import ShopDomain

/// Every read of orders: as the API, the listings and the console show them, and what the
/// payment jobs need to know. (Orders are written by the draw, purchases and settlements.)
public enum OrderStore {
    /// The columns ``Order/init(row:)`` reads, in its order.
    static let columns =
        "id, drop_id, user_id, status, amount_cents, currency, webhook_id, payment_id, expires_at, created_at, updated_at"

    public static func order(_ connection: PostgresConnection, id: Int) throws -> Order? {
        try connection.query("SELECT \(columns) FROM orders WHERE id = $1", [.int(id)]).first.map(Order.init(row:))
    }

    /// The customer's order for a drop (one at most: an entrant is allocated one unit).
    static func order(_ connection: PostgresConnection, dropID: Int, userID: Int) throws -> Order? {
        try connection.query(
            "SELECT \(columns) FROM orders WHERE drop_id = $1 AND user_id = $2", [.int(dropID), .int(userID)]
        ).first.map(Order.init(row:))
    }

    /// The customer's orders for any of `dropIDs`, by drop (one query for a page of entries).
    static func ordersByDrop(_ connection: PostgresConnection, userID: Int, dropIDs: [Int]) throws -> [Int: Order] {
        let rows = try connection.query(
            "SELECT \(columns) FROM orders WHERE user_id = $1 AND drop_id = ANY ($2::bigint[])", [.int(userID), .intArray(dropIDs)])
        var byDrop: [Int: Order] = [:]
        for index in 0..<rows.count {
            let order = try Order(row: rows[index])
            byDrop[order.dropID] = order
        }
        return byDrop
    }

    /// The customer's orders, newest (largest id) first, with ids below `beforeID` (nil: from the newest).
    static func orders(_ connection: PostgresConnection, userID: Int, beforeID: Int?, limit: Int) throws -> [Order] {
        try connection.query(
            """
            SELECT \(columns) FROM orders
            WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3
            """,
            [.int(userID), beforeID.map { .int($0) } ?? .null, .int(limit)]
        ).map(Order.init(row:))
    }

    /// A drop's first `limit` orders by id.
    static func orders(_ connection: PostgresConnection, dropID: Int, limit: Int) throws -> [Order] {
        try connection.query(
            "SELECT \(columns) FROM orders WHERE drop_id = $1 ORDER BY id LIMIT $2", [.int(dropID), .int(limit)]
        ).map(Order.init(row:))
    }

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
        let rows = try connection.query(
            """
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
        try connection.query(
            """
            SELECT o.id FROM orders o
            WHERE o.status IN ('failed', 'expired', 'cancelled') AND o.amount_cents > 0
              AND o.updated_at > now() - interval '1 day' AND o.updated_at <= now() - make_interval(secs => $1)
              AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
              AND (SELECT a.outcome FROM charge_attempts a WHERE a.order_id = o.id ORDER BY a.id DESC LIMIT 1) = 'retryable'
            ORDER BY o.id
            """, [.int(minimumAgeSeconds)]
        ).map { try $0.int(0) }
    }

    /// Logs a provider answer that settles nothing (a retryable error), for the audit trail.
    public static func logRetryableAttempt(
        _ connection: PostgresConnection, orderID: Int, attempt: Int, httpStatus: Int?, detail: String, latencyMilliseconds: Int? = nil
    ) throws {
        try connection.query(
            """
            INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, detail, latency_ms)
            VALUES ($1, $2, 'retryable', $3, $4, $5)
            """, [.int(orderID), .int(attempt), .int(httpStatus), .text(detail), .int(latencyMilliseconds)])
    }
}

extension Order {
    init(row: PostgresRow) throws {
        guard let status = OrderStatus(rawValue: try row.string(3)) else {
            throw PostgresError(code: .decoding, message: "unknown order status")
        }
        self.init(
            id: try row.int(0), dropID: try row.int(1), userID: try row.int(2), status: status,
            amountCents: try row.int(4), currency: try row.string(5), webhookID: try row.string(6),
            paymentID: try row.optionalString(7), expiresAt: try row.date(8), createdAt: try row.date(9),
            updatedAt: try row.date(10))
    }
}
