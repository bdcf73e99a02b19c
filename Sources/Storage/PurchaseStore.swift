import Foundation
import Postgres
import ShopDomain

/// Open-run purchases in PostgreSQL: the authority behind the Redis admission gate.
public enum PurchaseStore {
    public struct Request: Sendable, Equatable {
        public let dropID: Int
        public let userID: Int

        public init(dropID: Int, userID: Int) {
            self.dropID = dropID
            self.userID = userID
        }
    }

    public enum Result: Sendable, Equatable {
        case created(Order)
        case soldOut
        case alreadyPurchased
        case notOpen
        case notFound
    }

    /// Confirms purchases inside the caller's transaction. Each drop's stock row is locked
    /// `SELECT … FOR UPDATE` once for all of its buyers in the batch, who get units in the order
    /// they are listed while units remain. Called with one request per transaction, this is the
    /// classic design the admission gate replaces (one lock per buyer).
    public static func confirm(
        _ connection: PostgresConnection, _ requests: [Request], paymentWindowSeconds: Int
    ) throws -> [Result] {
        var results = [Result](repeating: .soldOut, count: requests.count)
        let byDrop = Dictionary(grouping: requests.indices, by: { requests[$0].dropID })
        // Lock drops in id order, so concurrent batches cannot deadlock on each other.
        for dropID in byDrop.keys.sorted() {
            let indices = byDrop[dropID]!
            let drop = try connection.query(
                """
                SELECT d.kind, d.status = 'open' AND d.opens_at <= now() AND (d.closes_at IS NULL OR d.closes_at > now()),
                       d.available
                FROM drops d
                WHERE d.id = $1 FOR UPDATE
                """, [.int(dropID)])
            guard let row = drop.first else {
                for index in indices { results[index] = .notFound }
                continue
            }
            guard try row.string(0) == DropKind.openRun.rawValue, try row.bool(1) else {
                for index in indices { results[index] = .notOpen }
                continue
            }
            let available = try row.int(2)
            // One request per customer: a repeat within the batch is an already-made purchase.
            var firstIndex: [Int: Int] = [:]
            var buyers: [Int] = []
            for index in indices {
                let user = requests[index].userID
                if firstIndex[user] == nil {
                    firstIndex[user] = index
                    buyers.append(user)
                } else {
                    results[index] = .alreadyPurchased
                }
            }
            // One *live* order per customer: a declined or expired buyer may buy again.
            let existing = Set(
                try connection.query(
                    """
                    SELECT user_id FROM orders
                    WHERE drop_id = $1 AND user_id = ANY($2::bigint[]) AND status IN ('pending_payment', 'paid')
                    """,
                    [.int(dropID), .intArray(buyers)]
                ).map { try $0.int(0) })
            let candidates = buyers.filter { !existing.contains($0) }
            for user in existing { results[firstIndex[user]!] = .alreadyPurchased }
            let winners = Array(candidates.prefix(available))
            guard !winners.isEmpty else { continue }
            // At the drop's locked price; a free unit (price 0) is paid at once, nothing to charge.
            let created = try connection.query(
                """
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at, status, charge_state)
                SELECT d.id, u.user_id, d.price_cents, d.currency, now() + make_interval(secs => $3),
                       CASE WHEN d.price_cents = 0 THEN 'paid' ELSE 'pending_payment' END,
                       CASE WHEN d.price_cents = 0 THEN \(ChargeState.done.sql) ELSE \(ChargeState.queued.sql) END
                FROM unnest($2::bigint[]) WITH ORDINALITY AS u(user_id, ordinality)
                JOIN drops d ON d.id = $1
                ORDER BY u.ordinality
                RETURNING id, user_id, amount_cents, currency, webhook_id, expires_at, created_at, updated_at, status
                """, [.int(dropID), .intArray(winners), .int(paymentWindowSeconds)])
            var paid = 0
            for order in created {
                if try order.string(8) == OrderStatus.paid.rawValue { paid += 1 }
            }
            try DrawStore.takeUnits(
                connection, dropID: dropID,
                for: DrawStore.CreatedOrders(toCharge: Array(repeating: 0, count: created.count - paid), paid: paid))
            if paid > 0 { try OrderSettlementStore.settleIfDone(connection, dropID: dropID) }
            for order in created {
                let user = try order.int(1)
                results[firstIndex[user]!] = .created(
                    Order(
                        id: try order.int(0), dropID: dropID, userID: user,
                        status: OrderStatus(rawValue: try order.string(8)) ?? .pendingPayment,
                        amountCents: try order.int(2), currency: try order.string(3), webhookID: try order.string(4),
                        paymentID: nil, expiresAt: try order.date(5), createdAt: try order.date(6), updatedAt: try order.date(7)))
            }
        }
        return results
    }

    /// What the admission gate is built from.
    public struct GateFigures: Sendable, Equatable {
        public let dropID: Int
        public let isOpenRun: Bool
        public let status: DropStatus
        /// Open for purchases now: status `open` and inside the window.
        public let isOpen: Bool
        public let available: Int
        public let buyers: [Int]
    }

    public static func gateFigures(_ connection: PostgresConnection, dropID: Int) throws -> GateFigures? {
        // One statement, so one snapshot: `available` and the buyers agree (read apart, an order
        // committed in between would count its unit as still for sale).
        let rows = try connection.query(
            """
            SELECT kind = 'open_run', status, status = 'open' AND opens_at <= now() AND (closes_at IS NULL OR closes_at > now()),
                   available,
                   CASE WHEN kind = 'open_run'
                        THEN array_to_string(ARRAY(
                            SELECT user_id FROM orders
                            WHERE drop_id = drops.id AND status IN ('pending_payment', 'paid')), ',')
                        ELSE '' END
            FROM drops WHERE id = $1
            """, [.int(dropID)])
        guard let row = rows.first else { return nil }
        guard let status = DropStatus(rawValue: try row.string(1)) else {
            throw PostgresError(code: .decoding, message: "drop \(dropID) has an unknown status")
        }
        let buyers = try row.string(4).split(separator: ",").map { text in
            guard let buyer = Int(text) else { throw PostgresError(code: .decoding, message: "buyer id \(text) is not an integer") }
            return buyer
        }
        return GateFigures(
            dropID: dropID, isOpenRun: try row.bool(0), status: status, isOpen: try row.bool(2), available: try row.int(3),
            buyers: buyers)
    }

    /// Open-runs that are not settled, for the scheduler's reconcile of their gates.
    public static func liveOpenRuns(_ connection: PostgresConnection) throws -> [GateFigures] {
        try connection.query(
            """
            SELECT id FROM drops WHERE kind = 'open_run' AND status IN ('scheduled', 'open', 'closed') ORDER BY id
            """
        ).compactMap { try gateFigures(connection, dropID: $0.int(0)) }
    }
}
