import Postgres
import ShopDomain
import TextEncodings

/// Checks the invariants (docs/contract.md, "Invariants") over the whole database; one line per
/// violation.
///
/// The schema already refuses most bad states (CHECKs, unique keys, foreign keys); the audit also
/// checks what constraints cannot express: counters against the orders they count, one successful
/// charge per order, promotions in ranking order, and every draw against its recomputation.
public enum InvariantAudit {
    public struct Report: Sendable {
        public var violations: [String] = []
        public var dropsChecked = 0
        public var ordersChecked = 0
        public var drawsRecomputed = 0
        /// Refunds still on their way (not a violation: the money is going back).
        public var refundsInProgress = 0
    }

    /// `progress` hears what is being checked (the command shows it on a terminal).
    public static func run(_ connection: PostgresConnection, progress: (String) -> Void = { _ in }) throws -> Report {
        var report = Report()
        progress("checking stock, orders and money")
        report.dropsChecked = try connection.query("SELECT count(*) FROM drops")[0].int(0)
        report.ordersChecked = try connection.query("SELECT count(*) FROM orders")[0].int(0)

        // stock = available + held + sold, none negative; held and sold match the orders.
        for row in try connection.query(
            """
            SELECT d.id, d.stock, d.available, d.held, d.sold,
                   count(o.id) FILTER (WHERE o.status = 'pending_payment'),
                   count(o.id) FILTER (WHERE o.status = 'paid')
            FROM drops d LEFT JOIN orders o ON o.drop_id = d.id
            GROUP BY d.id
            HAVING d.available < 0 OR d.held < 0 OR d.sold < 0 OR d.stock <> d.available + d.held + d.sold
                OR d.held <> count(o.id) FILTER (WHERE o.status = 'pending_payment')
                OR d.sold <> count(o.id) FILTER (WHERE o.status = 'paid')
                OR count(o.id) FILTER (WHERE o.status IN ('pending_payment', 'paid')) > d.stock
            ORDER BY d.id
            """)
        {
            report.violations.append(
                """
                drop \(try row.int(0)): stock \(try row.int(1)) = available \(try row.int(2)) + held \(try row.int(3)) \
                + sold \(try row.int(4)) must hold with held = \(try row.int(5)) pending and sold = \(try row.int(6)) paid orders
                """)
        }
        // At most one live order per customer per drop; at most one entry per customer per drop.
        for row in try connection.query(
            """
            SELECT drop_id, user_id, count(*) FROM orders WHERE status IN ('pending_payment', 'paid')
            GROUP BY drop_id, user_id HAVING count(*) > 1
            """)
        {
            report.violations.append("drop \(try row.int(0)): customer \(try row.int(1)) holds \(try row.int(2)) live orders")
        }
        for row in try connection.query(
            """
            SELECT drop_id, user_id, count(*) FROM entries GROUP BY drop_id, user_id HAVING count(*) > 1
            """)
        {
            report.violations.append("drop \(try row.int(0)): customer \(try row.int(1)) has \(try row.int(2)) entries")
        }
        // No order charged twice; no charge taken for an order that did not sell.
        for row in try connection.query(
            """
            SELECT order_id, count(DISTINCT payment_id) FROM charge_attempts
            WHERE outcome = 'succeeded' GROUP BY order_id HAVING count(DISTINCT payment_id) > 1
            """)
        {
            report.violations.append("order \(try row.int(0)): \(try row.int(1)) different successful charges")
        }
        // Money follows units. A charge that succeeded for an order holding no unit (expired,
        // failed, cancelled, refunded by an operator) is fine while its refund is pending or
        // done: the money is on its way back. Without a refund, or with a refund that failed, the
        // provider keeps money for no unit.
        for row in try connection.query(
            """
            SELECT o.id, o.status, coalesce(r.status, 'none') FROM orders o LEFT JOIN refunds r ON r.order_id = o.id
            WHERE o.status NOT IN ('pending_payment', 'paid') AND o.amount_cents > 0
              AND (r.status IS NULL OR r.status = 'failed')
              AND (EXISTS (SELECT 1 FROM charge_attempts a WHERE a.order_id = o.id AND a.outcome = 'succeeded')
                   OR EXISTS (SELECT 1 FROM payment_events e WHERE e.order_id = o.id AND e.type = 'charge.succeeded'))
            ORDER BY o.id
            """)
        {
            report.violations.append(
                """
                order \(try row.int(0)): money kept for no unit (charged, \(try row.string(1)), refund \(try row.string(2)))
                """)
        }
        report.refundsInProgress = try connection.query("SELECT count(*) FROM refunds WHERE status = 'pending'")[0].int(0)
        // A refund belongs to an order without its unit, and operator refunds move their order on.
        for row in try connection.query(
            """
            SELECT o.id, o.status, r.status FROM orders o JOIN refunds r ON r.order_id = o.id
            WHERE o.status IN ('paid', 'pending_payment')
               OR (o.status = 'refunded' AND r.status <> 'succeeded')
               OR (o.status = 'refund_pending' AND r.status = 'succeeded')
            ORDER BY o.id
            """)
        {
            report.violations.append(
                """
                order \(try row.int(0)): \(try row.string(1)) with a refund \(try row.string(2)) (a unit held and its money paid back)
                """)
        }
        for row in try connection.query(
            """
            SELECT o.id, o.status FROM orders o
            WHERE o.status IN ('refund_pending', 'refunded') AND o.amount_cents > 0
              AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
            ORDER BY o.id
            """)
        {
            report.violations.append("order \(try row.int(0)): \(try row.string(1)) without a refund")
        }
        for row in try connection.query("SELECT id FROM orders WHERE status = 'paid' AND payment_id IS NULL AND amount_cents > 0") {
            report.violations.append("order \(try row.int(0)): paid without a payment id")
        }
        // Units of a draw go to ranked entrants in ranking order: offered positions form a prefix.
        for row in try connection.query(
            """
            SELECT r.drop_id, min(r.position) FILTER (WHERE r.order_id IS NULL), max(r.position) FILTER (WHERE r.order_id IS NOT NULL)
            FROM drop_rankings r GROUP BY r.drop_id
            HAVING min(r.position) FILTER (WHERE r.order_id IS NULL) < max(r.position) FILTER (WHERE r.order_id IS NOT NULL)
            """)
        {
            report.violations.append(
                """
                drop \(try row.int(0)): position \(try row.int(2)) was offered a unit before position \(try row.int(1))
                """)
        }
        for row in try connection.query(
            """
            SELECT o.id, o.drop_id FROM orders o JOIN drops d ON d.id = o.drop_id
            WHERE d.kind <> 'open_run' AND NOT EXISTS (SELECT 1 FROM drop_rankings r WHERE r.order_id = o.id)
            """)
        {
            report.violations.append("order \(try row.int(0)): drop \(try row.int(1)) is a draw but the order is not linked to a ranked entry")
        }
        // Every draw's stored result equals the protocol's recomputation from its audit bundle;
        // a stored bundle must also be the drop's own (its row, its ranking and, while they are
        // not archived, its entries).
        let drawn = try connection.query(
            """
            SELECT id FROM drops WHERE kind <> 'open_run' AND status IN ('drawn', 'settled') ORDER BY id
            """)
        for (index, row) in drawn.enumerated() {
            let dropID = try row.int(0)
            progress("recomputing draw \(index + 1) of \(drawn.count) (drop \(dropID))")
            let bundle: AuditBundle
            if let stored = try AuditBundleStore.storedBundle(connection, dropID: dropID) {
                bundle = stored
                report.violations += try storedBundleDifferences(connection, bundle)
            } else {
                guard case .bundle(let rebuilt) = try AuditBundleStore.rebuilt(connection, dropID: dropID) else {
                    report.violations.append("drop \(dropID): drawn but its audit bundle cannot be built")
                    continue
                }
                bundle = rebuilt
            }
            report.drawsRecomputed += 1
            for difference in AuditVerifier.verify(bundle) {
                report.violations.append("drop \(dropID): \(difference)")
            }
        }
        return report
    }

    /// Where a stored bundle disagrees with what the database says of its drop.
    static func storedBundleDifferences(_ connection: PostgresConnection, _ bundle: AuditBundle) throws -> [String] {
        let dropID = bundle.dropID
        var differences: [String] = []
        let rows = try connection.query(
            """
            SELECT seed, commitment, beacon, entries_digest, stock, waitlist_depth, entries_archived_at IS NOT NULL
            FROM drops WHERE id = $1
            """, [.int(dropID)])
        guard let row = rows.first else { return ["drop \(dropID): its stored audit bundle has no drop"] }
        func compare(_ field: String, _ stored: String, _ actual: String?) {
            if stored != actual { differences.append("drop \(dropID): the stored audit bundle's \(field) is not the drop's") }
        }
        compare("seed", bundle.seed.lowercaseHex, try row.optionalByteArray(0)?.lowercaseHex)
        compare("commitment", bundle.commitment, try row.optionalString(1))
        compare("beacon", bundle.beacon, try row.string(2))
        compare("entries_digest", bundle.entriesDigest, try row.optionalString(3))
        compare("stock", String(bundle.stock), String(try row.int(4)))
        compare("waitlist_depth", String(bundle.waitlistDepth), String(try row.int(5)))
        let ranking = try connection.query(
            "SELECT user_id FROM drop_rankings WHERE drop_id = $1 ORDER BY position", [.int(dropID)]
        ).map { try $0.int(0) }
        if ranking != bundle.winners + bundle.waitlist {
            differences.append("drop \(dropID): the stored ranking is not the stored audit bundle's winners and waitlist")
        }
        if !(try row.bool(6)) {
            let (_, digest) = try DrawStore.canonicalEntries(connection, dropID: dropID)
            if digest != bundle.entriesDigest {
                differences.append("drop \(dropID): the entries in the database do not match the stored audit bundle's digest")
            }
        }
        return differences
    }
}
