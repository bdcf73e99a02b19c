import Foundation
import Postgres
import ShopDomain

/// The close job's reads and its one write transaction (see `Worker/CloseDropHandler`).
public enum DrawStore {
    /// What the close job needs to know about a drop.
    public struct DrawnDrop: Sendable {
        public let id: Int
        public let kind: DropKind
        public let status: DropStatus
        public let stock: Int
        public let waitlistDepth: Int
        public let seed: [UInt8]?
        public let beacon: String
    }

    public static func drop(_ connection: PostgresConnection, id: Int) throws -> DrawnDrop? {
        let rows = try connection.query(
            "SELECT kind, status, stock, waitlist_depth, seed, beacon FROM drops WHERE id = $1", [.int(id)])
        guard let row = rows.first else { return nil }
        guard let kind = DropKind(rawValue: try row.string(0)), let status = DropStatus(rawValue: try row.string(1)) else {
            throw PostgresError(code: .decoding, message: "drop \(id) has an unknown kind or status")
        }
        return DrawnDrop(
            id: id, kind: kind, status: status, stock: try row.int(2), waitlistDepth: try row.int(3),
            seed: try row.optionalByteArray(4), beacon: try row.string(5))
    }

    /// The drop's entries in canonical order (user id ascending), streamed with COPY, and their
    /// digest computed on the way (SPEC §5).
    public static func canonicalEntries(_ connection: PostgresConnection, dropID: Int) throws -> (entries: [DrawEntry], digest: String) {
        var entries: [DrawEntry] = []
        var digester = EntriesDigester()
        // COPY takes no parameters; the id is an integer we format ourselves, never caller text.
        let sql = "COPY (SELECT user_id, tickets FROM entries WHERE drop_id = \(dropID) ORDER BY user_id) TO STDOUT"
        var parseError: PostgresError?
        try connection.copyOut(sql) { line in
            // A line is "<user_id>\t<tickets>\n".
            var user = 0
            var tickets = 0
            var field = 0
            for byte in line {
                switch byte {
                case 48...57:
                    if field == 0 { user = user &* 10 &+ Int(byte &- 48) } else { tickets = tickets &* 10 &+ Int(byte &- 48) }
                case 9:
                    field += 1
                case 10:
                    break
                default:
                    parseError = PostgresError(code: .decoding, message: "unexpected byte in an entries COPY line")
                }
            }
            entries.append(DrawEntry(userID: user, tickets: tickets))
            digester.append(userID: user, tickets: tickets)
        }
        if let parseError { throw parseError }
        return (entries, digester.finalize())
    }

    public struct Committed: Sendable, Equatable {
        /// Orders created for the winners (each needs a charge job).
        public let orders: [Int]
        /// True when this call drew the drop; false when another run had already done so.
        public let drewNow: Bool

        public init(orders: [Int], drewNow: Bool) {
            self.orders = orders
            self.drewNow = drewNow
        }
    }

    /// In one transaction: locks the drop's stock row `FOR UPDATE`, stores the ranking, creates
    /// one `pending_payment` order per winner holding a unit, and marks the drop drawn (its seed
    /// becomes visible). A drop that is no longer `closing` is left alone: a redelivered close job
    /// never creates a second set of orders.
    public static func commitDraw(
        _ connection: PostgresConnection, dropID: Int, result: DrawResult, paymentWindowSeconds: Int
    ) throws -> Committed {
        try connection.transaction { transaction in
            let locked = try transaction.query(
                "SELECT status, kind FROM drops WHERE id = $1 FOR UPDATE", [.int(dropID)])
            guard let row = locked.first, try row.string(0) == DropStatus.closing.rawValue,
                  let kind = DropKind(rawValue: try row.string(1)) else {
                return Committed(orders: try pendingChargeOrders(transaction, dropID: dropID), drewNow: false)
            }
            let ranking = result.winners + result.waitlist
            if !ranking.isEmpty {
                try transaction.query("""
                    INSERT INTO drop_rankings (drop_id, position, user_id)
                    SELECT $1, ordinality - 1, user_id FROM unnest($2::bigint[]) WITH ORDINALITY AS r(user_id, ordinality)
                    """, [.int(dropID), .intArray(ranking)])
            }
            let orders = try createOrders(transaction, dropID: dropID, users: result.winners, paymentWindowSeconds: paymentWindowSeconds)
            // Nobody to offer a unit to: the drop is final at once.
            let next = try DropStatus.closing.moved(to: result.winners.isEmpty ? .settled : .drawn, kind: kind)
            try transaction.query("""
                UPDATE drops
                SET status = $2, entries_digest = $3, drawn_at = now(), updated_at = now(),
                    available = available - $4, held = held + $4
                WHERE id = $1 AND status = 'closing'
                """, [.int(dropID), .text(next.rawValue), .text(result.entriesDigest), .int(orders.count)])
            return Committed(orders: orders, drewNow: true)
        }
    }

    /// Creates `pending_payment` orders at the product's current price for `users` and links them
    /// to their ranking positions. The caller holds the drop row lock and moves the units.
    static func createOrders(
        _ connection: PostgresConnection, dropID: Int, users: [Int], paymentWindowSeconds: Int
    ) throws -> [Int] {
        guard !users.isEmpty else { return [] }
        return try connection.query("""
            WITH created AS (
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                SELECT d.id, u.user_id, p.price_cents, p.currency,
                       'wh_' || d.id || '_' || u.user_id, now() + make_interval(secs => $3)
                FROM unnest($2::bigint[]) WITH ORDINALITY AS u(user_id, ordinality)
                JOIN drops d ON d.id = $1
                JOIN products p ON p.id = d.product_id
                ORDER BY u.ordinality
                RETURNING id, user_id
            ), linked AS (
                UPDATE drop_rankings r SET order_id = created.id
                FROM created WHERE r.drop_id = $1 AND r.user_id = created.user_id
            )
            SELECT id FROM created ORDER BY id
            """, [.int(dropID), .intArray(users), .int(paymentWindowSeconds)]
        ).map { try $0.int(0) }
    }

    /// Orders of a drawn drop whose charge has not been sent yet.
    public static func pendingChargeOrders(_ connection: PostgresConnection, dropID: Int) throws -> [Int] {
        try connection.query("""
            SELECT id FROM orders WHERE drop_id = $1 AND status = 'pending_payment' AND charge_state = 'queued' ORDER BY id
            """, [.int(dropID)]).map { try $0.int(0) }
    }
}
