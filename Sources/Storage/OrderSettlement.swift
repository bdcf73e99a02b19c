import Postgres
import ShopDomain

/// How a charge ended (or is waiting), as reported by the charge job, a callback or an expiry.
public enum PaymentOutcome: Sendable, Equatable {
    case paid(paymentID: String)
    /// Declined, or the provider stayed unreachable through every attempt.
    case failed(reason: String)
    /// The payment window passed without a final answer.
    case expired
    /// The provider answered `pending`; a callback or the expiry will settle it.
    case awaitingCallback(paymentID: String?)
}

/// One order's outcome to apply.
public struct Settlement: Sendable, Equatable {
    public let orderID: Int
    public let outcome: PaymentOutcome
    /// The charge attempt that produced it, logged in `charge_attempts` (nil for callbacks and expiries).
    public let attempt: Int?
    public let httpStatus: Int?

    public init(orderID: Int, outcome: PaymentOutcome, attempt: Int? = nil, httpStatus: Int? = nil) {
        self.orderID = orderID
        self.outcome = outcome
        self.attempt = attempt
        self.httpStatus = httpStatus
    }
}

/// What applying a settlement changed, and what must happen next outside PostgreSQL.
public struct SettlementEffect: Sendable, Equatable {
    public let orderID: Int
    /// False when the order was already final (a final state never moves backwards) or was not in
    /// the state the outcome applies to: nothing changed.
    public let applied: Bool
    public let dropID: Int?
    public let dropKind: DropKind?
    /// Orders created for the next waitlisted entrants of a draw/raffle; each needs a charge job.
    public let promotedOrders: [Int]
    /// Open-run units put back on sale; the admission gate must get them back.
    public let unitsReturnedToSale: Int
    /// When an order now awaits a callback: when it expires (Unix ms), for its expiry job.
    public let expiresAtMilliseconds: Int?

    static func unchanged(_ orderID: Int) -> SettlementEffect {
        SettlementEffect(orderID: orderID, applied: false, dropID: nil, dropKind: nil, promotedOrders: [],
                         unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
    }
}

/// Applies payment outcomes: order status, stock figures under the drop's row lock, waitlist
/// promotion, settling the drop. Each settlement is guarded by the order's current state, so
/// applying one twice (a redelivered job, a repeated callback) changes nothing the second time.
public enum OrderSettlementStore {
    public static func apply(
        _ connection: PostgresConnection, _ settlement: Settlement, paymentWindowSeconds: Int
    ) throws -> SettlementEffect {
        let id = settlement.orderID
        var effect: SettlementEffect
        switch settlement.outcome {
        case .paid(let paymentID):
            let rows = try connection.query("""
                WITH settled AS (
                    UPDATE orders SET status = 'paid', charge_state = 'done', payment_id = $2, updated_at = now()
                    WHERE id = $1 AND status = 'pending_payment'
                    RETURNING drop_id
                )
                UPDATE drops d SET held = held - 1, sold = sold + 1, updated_at = now()
                FROM settled WHERE d.id = settled.drop_id
                RETURNING d.id, d.kind
                """, [.int(id), .text(paymentID)])
            effect = try changed(id, rows)
        case .failed, .expired:
            let status = settlement.outcome == .expired ? OrderStatus.expired : .failed
            let reason: String
            if case .failed(let text) = settlement.outcome { reason = text } else { reason = "payment window passed" }
            let rows = try connection.query("""
                WITH released AS (
                    UPDATE orders SET status = $2, charge_state = 'done', failure = $3, updated_at = now()
                    WHERE id = $1 AND status = 'pending_payment'
                    RETURNING drop_id
                )
                UPDATE drops d SET held = held - 1, available = available + 1, updated_at = now()
                FROM released WHERE d.id = released.drop_id
                RETURNING d.id, d.kind
                """, [.int(id), .text(status.rawValue), .text(reason)])
            effect = try changed(id, rows)
            if effect.applied, let dropID = effect.dropID, let kind = effect.dropKind {
                if kind.isDrawn {
                    let promoted = try promoteNextWaitlisted(connection, dropID: dropID, paymentWindowSeconds: paymentWindowSeconds)
                    effect = SettlementEffect(
                        orderID: id, applied: true, dropID: dropID, dropKind: kind, promotedOrders: promoted,
                        unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
                } else {
                    effect = SettlementEffect(
                        orderID: id, applied: true, dropID: dropID, dropKind: kind, promotedOrders: [],
                        unitsReturnedToSale: 1, expiresAtMilliseconds: nil)
                }
            }
        case .awaitingCallback(let paymentID):
            let rows = try connection.query("""
                UPDATE orders SET charge_state = 'awaiting_callback', payment_id = COALESCE($2, payment_id), updated_at = now()
                WHERE id = $1 AND status = 'pending_payment' AND charge_state = 'queued'
                RETURNING drop_id, (extract(epoch FROM expires_at) * 1000)::bigint
                """, [.int(id), .text(paymentID)])
            guard let row = rows.first else { return .unchanged(id) }
            effect = SettlementEffect(
                orderID: id, applied: true, dropID: try row.int(0), dropKind: nil, promotedOrders: [],
                unitsReturnedToSale: 0, expiresAtMilliseconds: try row.int(1))
        }
        if let attempt = settlement.attempt {
            try logAttempt(connection, settlement, attempt: attempt)
        }
        if effect.applied, let dropID = effect.dropID, settlement.outcome.isFinal {
            try settleIfDone(connection, dropID: dropID)
        }
        return effect
    }

    /// Records one answer of the provider (the audit of "one successful charge per order").
    public static func logAttempt(_ connection: PostgresConnection, _ settlement: Settlement, attempt: Int) throws {
        let (outcome, paymentID, detail): (String, String?, String?) = switch settlement.outcome {
        case .paid(let paymentID): ("succeeded", paymentID, nil)
        case .failed(let reason): ("failed", nil, reason)
        case .expired: ("failed", nil, "expired")
        case .awaitingCallback(let paymentID): ("pending", paymentID, nil)
        }
        try connection.query("""
            INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, payment_id, detail)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, [.int(settlement.orderID), .int(attempt), .text(outcome), .int(settlement.httpStatus), .text(paymentID), .text(detail)])
    }

    /// Offers a released unit of a draw/raffle to the best-ranked entrant not offered one yet.
    static func promoteNextWaitlisted(_ connection: PostgresConnection, dropID: Int, paymentWindowSeconds: Int) throws -> [Int] {
        let next = try connection.query("""
            SELECT user_id FROM drop_rankings WHERE drop_id = $1 AND order_id IS NULL
            ORDER BY position LIMIT 1 FOR UPDATE
            """, [.int(dropID)])
        guard let row = next.first else { return [] }
        let orders = try DrawStore.createOrders(
            connection, dropID: dropID, users: [try row.int(0)], paymentWindowSeconds: paymentWindowSeconds)
        try connection.query(
            "UPDATE drops SET available = available - $2, held = held + $2, updated_at = now() WHERE id = $1",
            [.int(dropID), .int(orders.count)])
        return orders
    }

    /// Marks a drop settled when nothing is pending and every unit is sold or has nobody left to
    /// be offered to.
    static func settleIfDone(_ connection: PostgresConnection, dropID: Int) throws {
        try connection.query("""
            UPDATE drops d SET status = 'settled', updated_at = now()
            WHERE d.id = $1 AND d.held = 0 AND (
                (d.kind <> 'open_run' AND d.status = 'drawn' AND (d.sold = d.stock OR NOT EXISTS (
                    SELECT 1 FROM drop_rankings r WHERE r.drop_id = d.id AND r.order_id IS NULL)))
                OR (d.kind = 'open_run' AND (d.status = 'closed' OR (d.status = 'open' AND d.sold = d.stock)))
            )
            """, [.int(dropID)])
    }

    private static func changed(_ orderID: Int, _ rows: PostgresRows) throws -> SettlementEffect {
        guard let row = rows.first else { return .unchanged(orderID) }
        return SettlementEffect(
            orderID: orderID, applied: true, dropID: try row.int(0), dropKind: DropKind(rawValue: try row.string(1)),
            promotedOrders: [], unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
    }
}

extension PaymentOutcome {
    var isFinal: Bool {
        if case .awaitingCallback = self { return false }
        return true
    }
}
