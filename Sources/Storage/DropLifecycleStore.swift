import Postgres
import ShopDomain

/// The scheduler's moves of drops through their statuses (see ``DropStatus``).
///
/// Every move is one guarded UPDATE naming the status it expects, so concurrent schedulers (a
/// leader and a stale ex-leader) cannot both make it. `term` is the caller's leadership term:
/// the UPDATE applies only while that term is still the current one (a fencing token).
public enum DropLifecycleStore {
    public struct Moved: Sendable, Equatable {
        public let dropID: Int
        public let kind: DropKind
    }

    private static let fenced = "EXISTS (SELECT 1 FROM scheduler_leadership WHERE term = $1)"

    /// scheduled → open for drops whose `opens_at` has passed.
    public static func openDueDrops(_ connection: PostgresConnection, term: Int) throws -> [Moved] {
        try moved(
            connection.query(
                """
                UPDATE drops SET status = 'open', updated_at = now()
                WHERE status = 'scheduled' AND opens_at <= now() AND \(fenced)
                RETURNING id, kind
                """, [.int(term)]))
    }

    /// open → closing (draw/raffle) and open → closed (open-run) for drops whose `closes_at` has
    /// passed. Entry batches hold `FOR SHARE` on the drop rows they insert into, so this UPDATE
    /// waits for them: after it commits no entry can be added.
    public static func closeDueDrops(_ connection: PostgresConnection, term: Int) throws -> [Moved] {
        try moved(
            connection.query(
                """
                UPDATE drops
                SET status = CASE WHEN kind = 'open_run' THEN 'closed' ELSE 'closing' END, updated_at = now()
                WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= now() AND \(fenced)
                RETURNING id, kind
                """, [.int(term)]))
    }

    /// closed → settled for open-runs with nothing pending. A settlement settles the drop when it
    /// releases or sells the last held unit; an open-run that closes with no order pending has no
    /// settlement left to do it.
    @discardableResult
    public static func settleIdleClosedOpenRuns(_ connection: PostgresConnection, term: Int) throws -> Int {
        try connection.query(
            """
            UPDATE drops SET status = 'settled', updated_at = now()
            WHERE kind = 'open_run' AND status = 'closed' AND held = 0 AND \(fenced)
            """, [.int(term)]
        ).affectedRows
    }

    /// Draws waiting for their close job.
    public static func closingDrops(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query("SELECT id FROM drops WHERE status = 'closing' ORDER BY id").map { try $0.int(0) }
    }

    public struct PendingOrder: Sendable, Equatable {
        public let orderID: Int
        /// True when the provider answered pending and the order waits for a callback or expiry.
        public let awaitingCallback: Bool
        public let expiresAtMilliseconds: Int
    }

    /// Orders whose payment is unresolved and that are older than `minimumAgeSeconds` (younger
    /// ones are still being handed to the queue by whoever created them).
    public static func pendingOrders(_ connection: PostgresConnection, minimumAgeSeconds: Int) throws -> [PendingOrder] {
        try connection.query(
            """
            SELECT id, charge_state = \(ChargeState.awaitingCallback.sql), (extract(epoch FROM expires_at) * 1000)::bigint
            FROM orders
            WHERE status = 'pending_payment' AND created_at <= now() - make_interval(secs => $1)
            ORDER BY id
            """, [.int(minimumAgeSeconds)]
        ).map { row in
            PendingOrder(orderID: try row.int(0), awaitingCallback: try row.bool(1), expiresAtMilliseconds: try row.int(2))
        }
    }

    private static func moved(_ rows: PostgresRows) throws -> [Moved] {
        try rows.map { row in
            let kindText = try row.string(1)
            guard let kind = DropKind(rawValue: kindText) else {
                throw PostgresError(code: .decoding, message: "unknown drop kind \(kindText)")
            }
            return Moved(dropID: try row.int(0), kind: kind)
        }
    }
}
