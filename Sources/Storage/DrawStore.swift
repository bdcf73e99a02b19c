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

    /// The drop's entries in canonical order (user id ascending), streamed with COPY out of the drop's
    /// own partition into flat arrays sized up front from the entry counters (no doubling, no object per
    /// entry), and their digest computed on the way (docs/contract.md, "Draw protocol v1", step 2).
    public static func canonicalEntries(_ connection: PostgresConnection, dropID: Int) throws -> (entries: CanonicalEntries, digest: String) {
        var entries = CanonicalEntries()
        let counted = try connection.query(
            "SELECT coalesce(sum(entries), 0)::bigint FROM drop_entry_counts WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        // The counters count what the intake wrote; rows loaded otherwise (fixtures, benchmarks)
        // just grow the arrays.
        entries.reserveCapacity(counted)
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
            entries.append(userID: user, tickets: tickets)
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
        /// How long the transaction's parts took (ranking, orders, bundle, commit).
        public var phases: DrawPhases

        public init(orders: [Int], drewNow: Bool, phases: DrawPhases = DrawPhases()) {
            self.orders = orders
            self.drewNow = drewNow
            self.phases = phases
        }
    }

    /// In one transaction: locks the drop's stock row `FOR UPDATE`, stores the ranking, creates
    /// one `pending_payment` order per winner holding a unit, and marks the drop drawn (its seed
    /// becomes visible). A drop that is no longer `closing` is left alone: a redelivered close job
    /// never creates a second set of orders.
    ///
    /// `bundle` (the draw's audit bundle) is stored in the same transaction: written once, when
    /// the draw commits.
    public static func commitDraw(
        _ connection: PostgresConnection, dropID: Int, result: DrawResult, bundle: AuditBundle?, paymentWindowSeconds: Int
    ) throws -> Committed {
        let started = ContinuousClock.now
        var committed = try connection.transaction { transaction in
            var phases = DrawPhases()
            let locked = try transaction.query(
                "SELECT status, kind FROM drops WHERE id = $1 FOR UPDATE", [.int(dropID)])
            guard let row = locked.first, try row.string(0) == DropStatus.closing.rawValue,
                let kind = DropKind(rawValue: try row.string(1))
            else {
                return Committed(orders: try pendingChargeOrders(transaction, dropID: dropID), drewNow: false)
            }
            let orders = try phases.measure("ranking_orders") {
                try rankAndCreateOrders(
                    transaction, dropID: dropID, winners: result.winners, ranking: result.winners + result.waitlist,
                    paymentWindowSeconds: paymentWindowSeconds)
            }
            // Nobody to offer a unit to: the drop is final at once.
            let next = try DropStatus.closing.moved(to: result.winners.isEmpty ? .settled : .drawn, kind: kind)
            try transaction.query(
                """
                UPDATE drops
                SET status = $2, entries_digest = $3, drawn_at = now(), updated_at = now()
                WHERE id = $1 AND status = 'closing'
                """, [.int(dropID), .text(next.rawValue), .text(result.entriesDigest)])
            try takeUnits(transaction, dropID: dropID, for: orders)
            if let bundle { try phases.measure("bundle") { try AuditBundleStore.store(transaction, bundle) } }
            // Free units are sold at once: every winner may already hold a paid unit.
            if orders.paid > 0 { try OrderSettlementStore.settleIfDone(transaction, dropID: dropID) }
            return Committed(orders: orders.toCharge, drewNow: true, phases: phases)
        }
        // What the transaction took beyond its measured parts: mostly COMMIT (the WAL flush).
        let total = started.duration(to: .now)
        committed.phases.record("commit_rest", committed.phases.phases.reduce(total) { $0 - $1.duration })
        return committed
    }

    /// Orders made for entrants: those to charge, and how many were free (price 0: paid at once).
    struct CreatedOrders {
        var toCharge: [Int]
        var paid: Int
        var count: Int { toCharge.count + paid }

        init(toCharge: [Int], paid: Int) {
            self.toCharge = toCharge
            self.paid = paid
        }

        /// From rows of `id, status = 'paid'`.
        init(_ rows: PostgresRows) throws {
            self.init(toCharge: [], paid: 0)
            for row in rows {
                if try row.bool(1) { paid += 1 } else { toCharge.append(try row.int(0)) }
            }
        }
    }

    /// The draw's ranking (`ranking`: winners first, then the waitlist) and the winners' orders in
    /// one statement: the ranking rows are inserted already linked to their orders, where a
    /// separate ``createOrders(_:dropID:users:paymentWindowSeconds:)`` would update each winner's
    /// row again (a second row version and index entries per winner: a third of this step's
    /// time at 10,000 winners). Same orders, same rows as the two steps.
    static func rankAndCreateOrders(
        _ connection: PostgresConnection, dropID: Int, winners: [Int], ranking: [Int], paymentWindowSeconds: Int
    ) throws -> CreatedOrders {
        guard !ranking.isEmpty else { return CreatedOrders(toCharge: [], paid: 0) }
        let rows = try connection.query(
            """
            WITH created AS (\(createdOrders(windowParameter: "$4"))), ranked AS (
                INSERT INTO drop_rankings (drop_id, position, user_id, order_id)
                SELECT $1, r.ordinality - 1, r.user_id, created.id
                FROM unnest($3::bigint[]) WITH ORDINALITY AS r(user_id, ordinality)
                LEFT JOIN created ON created.user_id = r.user_id
            )
            SELECT id, status = 'paid' FROM created ORDER BY id
            """, [.int(dropID), .intArray(winners), .intArray(ranking), .int(paymentWindowSeconds)])
        return try CreatedOrders(rows)
    }

    /// Creates orders at the drop's locked price for `users` and links them to their ranking
    /// positions: `pending_payment` holding a unit, or `paid` at once when the price is 0 (there
    /// is nothing to charge). The caller holds the drop row lock and moves the units (see
    /// ``takeUnits(_:dropID:for:)``). Each order's `webhook_id` is drawn at random by its default.
    static func createOrders(
        _ connection: PostgresConnection, dropID: Int, users: [Int], paymentWindowSeconds: Int
    ) throws -> CreatedOrders {
        guard !users.isEmpty else { return CreatedOrders(toCharge: [], paid: 0) }
        let rows = try connection.query(
            """
            WITH created AS (\(createdOrders(windowParameter: "$3"))), linked AS (
                UPDATE drop_rankings r SET order_id = created.id
                FROM created WHERE r.drop_id = $1 AND r.user_id = created.user_id
            )
            SELECT id, status = 'paid' FROM created ORDER BY id
            """, [.int(dropID), .intArray(users), .int(paymentWindowSeconds)])
        return try CreatedOrders(rows)
    }

    /// The `created` step shared by ``rankAndCreateOrders`` and ``createOrders``: one order per
    /// user of `$2` (in order) for drop `$1` at its locked price, expiring after the window in
    /// `windowParameter` seconds; `paid` with nothing to charge when the price is 0. Returns
    /// `id, user_id, status`.
    private static func createdOrders(windowParameter: String) -> String {
        """

                INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at, status, charge_state)
                SELECT d.id, u.user_id, d.price_cents, d.currency, now() + make_interval(secs => \(windowParameter)),
                       CASE WHEN d.price_cents = 0 THEN 'paid' ELSE 'pending_payment' END,
                       CASE WHEN d.price_cents = 0 THEN \(ChargeState.done.sql) ELSE \(ChargeState.queued.sql) END
                FROM unnest($2::bigint[]) WITH ORDINALITY AS u(user_id, ordinality)
                JOIN drops d ON d.id = $1
                ORDER BY u.ordinality
                RETURNING id, user_id, status

        """
    }

    /// Moves the units of newly created orders: out of `available`, into `held` (to charge) or
    /// `sold` (free).
    static func takeUnits(_ connection: PostgresConnection, dropID: Int, for created: CreatedOrders) throws {
        try connection.query(
            """
            UPDATE drops SET available = available - $2, held = held + $3, sold = sold + $4, updated_at = now()
            WHERE id = $1
            """, [.int(dropID), .int(created.count), .int(created.toCharge.count), .int(created.paid)])
    }

    /// Orders of a drawn drop whose charge has not been sent yet.
    public static func pendingChargeOrders(_ connection: PostgresConnection, dropID: Int) throws -> [Int] {
        try connection.query(
            """
            SELECT id FROM orders WHERE drop_id = $1 AND status = 'pending_payment' AND charge_state = \(ChargeState.queued.sql) ORDER BY id
            """, [.int(dropID)]
        ).map { try $0.int(0) }
    }
}
