import Foundation
import Postgres
import ShopDomain

/// A count in one time bucket, for the console's charts.
public struct BucketCount: Sendable, Equatable {
    public let bucketStart: Date
    public let label: String
    public let count: Int
}

/// One ranked place of a drawn drop: winners first, then the waitlist.
public struct RankedPlace: Sendable {
    public let position: Int
    public let userID: Int
    public let orderID: Int?
}

/// What the operator console reads from PostgreSQL besides the listings: figures grouped for a
/// page, each one query. An operator's page, not a hot path, but bounded all the same (time
/// windows, row limits) so that a drop of a million entries does not make a page slow.
public struct ConsoleFigures: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// The next scheduled drops by opening time.
    public func nextDrops(limit: Int) async throws -> [DropOverview] {
        try await pool.query(
            "SELECT \(DropStore.columns) FROM drops d WHERE d.status = 'scheduled' ORDER BY d.opens_at, d.id LIMIT $1",
            [.int(limit)]
        ).map(DropOverview.init(row:))
    }

    /// Drops per status.
    public func dropCounts() async throws -> [String: Int] {
        try await counts("SELECT status, count(*) FROM drops GROUP BY status")
    }

    /// A drop's orders per status.
    public func orderCounts(dropID: Int) async throws -> [String: Int] {
        try await counts("SELECT status, count(*) FROM orders WHERE drop_id = $1 GROUP BY status", [.int(dropID)])
    }

    /// A drop's first `limit` orders by id, for the drop page's list (and its Refund buttons).
    public func orders(dropID: Int, limit: Int) async throws -> [Order] {
        try await pool.withConnection { try OrderStore.orders($0, dropID: dropID, limit: limit) }
    }

    /// The provider's answer time over the last `minutes`: median and 99th percentile (ms, nil
    /// without timed answers) and how many answers they are over.
    public func chargeLatency(minutes: Int) async throws -> (p50: Int?, p99: Int?, answers: Int) {
        let row = try await pool.query(
            """
            SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms))::bigint,
                   round(percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms))::bigint, count(latency_ms)
            FROM charge_attempts WHERE at > now() - make_interval(mins => $1)
            """, [.int(minutes)])[0]
        return (try row.optionalInt(0), try row.optionalInt(1), try row.int(2))
    }

    /// Refunds requested in the last `minutes`, per reason (`late_success`, `operator`, `drop_cancelled`).
    public func refundReasons(minutes: Int) async throws -> [String: Int] {
        try await counts(
            "SELECT reason, count(*) FROM refunds WHERE requested_at > now() - make_interval(mins => $1) GROUP BY reason", [.int(minutes)])
    }

    /// Refunds requested in the last `minutes`, per state (`pending`, `succeeded`, `failed`).
    public func refundStates(minutes: Int) async throws -> [String: Int] {
        try await counts(
            "SELECT status, count(*) FROM refunds WHERE requested_at > now() - make_interval(mins => $1) GROUP BY status", [.int(minutes)])
    }

    /// Every order per status.
    public func orderCounts() async throws -> [String: Int] {
        try await counts("SELECT status, count(*) FROM orders GROUP BY status")
    }

    /// Failed orders per reason: a decline, the provider unreachable (its error detail left
    /// out, so reasons stay few), the payment window passed, a failure the provider called back.
    public func failedOrderReasons() async throws -> [String: Int] {
        try await counts(
            """
            SELECT CASE WHEN failure LIKE 'payment provider unavailable%' THEN 'payment provider unavailable'
                        ELSE coalesce(failure, 'unknown') END, count(*)
            FROM orders WHERE status = 'failed' GROUP BY 1
            """)
    }

    /// The provider's answers to charge requests per outcome over the last `minutes`.
    public func chargeOutcomes(minutes: Int) async throws -> [String: Int] {
        try await counts(
            "SELECT outcome, count(*) FROM charge_attempts WHERE at > now() - $1 * interval '1 minute' GROUP BY outcome",
            [.int(minutes)])
    }

    /// Charge answers per outcome in buckets of `bucketMinutes` over the last `minutes`.
    public func chargeOutcomesOverTime(minutes: Int, bucketMinutes: Int) async throws -> [BucketCount] {
        try await buckets(
            """
            SELECT to_timestamp(floor(extract(epoch FROM at) / ($2 * 60)) * ($2 * 60)) AS bucket, outcome, count(*)
            FROM charge_attempts WHERE at > now() - $1 * interval '1 minute'
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            [.int(minutes), .int(bucketMinutes)])
    }

    /// A drop's entries per minute, over its last 500 minutes with entries; an archived drop's
    /// from its detached partition in `entries_archive`, which keeps them whole.
    public func entriesOverTime(dropID: Int) async throws -> [BucketCount] {
        let archived =
            try await pool.query(
                "SELECT entries_archived_at IS NOT NULL FROM drops WHERE id = $1", [.int(dropID)]
            ).first.map { try $0.bool(0) } ?? false
        // The table name is built from an integer id, never from caller text.
        let table = archived ? "entries_archive.\(EntryArchive.partitionName(dropID))" : "entries"
        return try await buckets(
            """
            SELECT * FROM (
                SELECT date_trunc('minute', created_at) AS bucket, 'entries'::text, count(*)
                FROM \(table) WHERE drop_id = $1 GROUP BY 1 ORDER BY 1 DESC LIMIT 500
            ) recent ORDER BY 1
            """,
            [.int(dropID)])
    }

    /// The first `limit` places of a drawn drop's ranking.
    public func ranking(dropID: Int, limit: Int) async throws -> [RankedPlace] {
        try await pool.query(
            "SELECT position, user_id, order_id FROM drop_rankings WHERE drop_id = $1 ORDER BY position LIMIT $2",
            [.int(dropID), .int(limit)]
        ).map { RankedPlace(position: try $0.int(0), userID: try $0.int(1), orderID: try $0.optionalInt(2)) }
    }

    /// Sets the public beacon of a drop that has not closed yet (docs/contract.md, "Draw protocol v1",
    /// step 3: it is mixed into the draw, so it must be fixed before the entries are). False when the
    /// drop is past that.
    public func setBeacon(dropID: Int, beacon: String) async throws -> Bool {
        try await pool.query(
            "UPDATE drops SET beacon = $2, updated_at = now() WHERE id = $1 AND status IN ('scheduled', 'open')",
            [.int(dropID), .text(beacon)]
        ).affectedRows == 1
    }

    /// Brings an open drop's closing time forward to now; the scheduler closes it on its next
    /// tick and, for a draw or raffle, the worker draws it: the same path as any close, so the
    /// console needs no close logic of its own. False when the drop is not open.
    public func closeNow(dropID: Int) async throws -> Bool {
        try await pool.query(
            """
            UPDATE drops SET closes_at = greatest(now(), opens_at + interval '1 millisecond'), updated_at = now()
            WHERE id = $1 AND status = 'open'
            """,
            [.int(dropID)]
        ).affectedRows == 1
    }

    private func counts(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await pool.query(sql, parameters) { result[try row.string(0)] = try row.int(1) }
        return result
    }

    private func buckets(_ sql: String, _ parameters: [PostgresValue]) async throws -> [BucketCount] {
        try await pool.query(sql, parameters).map {
            BucketCount(bucketStart: try $0.date(0), label: try $0.string(1), count: try $0.int(2))
        }
    }
}
