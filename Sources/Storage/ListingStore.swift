import Foundation
import Postgres
import ShopDomain

/// A customer's entry as their listing shows it: where it stands and the order it led to.
public struct ListedEntry: Sendable {
    public let standing: EntryStanding
    /// The entry's keyset position: creation time in microseconds since 1970 (PostgreSQL's own
    /// precision, so no two positions collapse into one), then the drop id.
    public let cursor: EntryCursor
}

/// Where a page of a customer's entries ends: newest first, by creation time then drop id.
public struct EntryCursor: Sendable, Hashable, CustomStringConvertible {
    public let createdMicroseconds: Int
    public let dropID: Int

    public init(createdMicroseconds: Int, dropID: Int) {
        self.createdMicroseconds = createdMicroseconds
        self.dropID = dropID
    }

    /// `<microseconds>.<drop id>`; clients pass it back unchanged.
    public var description: String { "\(createdMicroseconds).\(dropID)" }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let micros = Int(parts[0]), let drop = Int(parts[1]), micros >= 0, drop > 0 else { return nil }
        self.init(createdMicroseconds: micros, dropID: drop)
    }
}

/// The listings of docs/contract.md, "HTTP API" (`GET /v1/drops`, `/v1/me/entries`, `/v1/me/orders`),
/// each paged by keyset so a page costs the same however deep it is, and rows added meanwhile never
/// shift a later page (no duplicates, no gaps). Indexes: migrations 0005 and 0009.
public struct ListingStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// Drops in id order after `afterID` in any of `statuses` (nil: every status).
    public func drops(statuses: [DropStatus]?, afterID: Int, limit: Int) async throws -> [DropOverview] {
        let rows = try await pool.query(
            """
            SELECT \(DropStore.columns) FROM drops d
            WHERE d.id > $1 AND ($2::text[] IS NULL OR d.status = ANY ($2::text[]))
            ORDER BY d.id LIMIT $3
            """,
            [.int(afterID), statuses.map { .textArray($0.map(\.rawValue)) } ?? .null, .int(limit)])
        return try rows.map(DropOverview.init(row:))
    }

    /// The statement of ``entries(userID:after:limit:)``: $1 the customer, $2/$3 the cursor
    /// (microseconds, drop id; both null for the first page), $4 the page size. Public so that a
    /// test can EXPLAIN exactly what the listing runs.
    public static let entriesSQL = """
        SELECT e.drop_id, e.user_id, e.tickets, e.created_at, d.status, d.stock, r.position, r.order_id,
               (extract(epoch FROM e.created_at) * 1000000)::bigint AS micros
        FROM customer_entries e
        JOIN drops d ON d.id = e.drop_id
        LEFT JOIN drop_rankings r ON r.drop_id = e.drop_id AND r.user_id = e.user_id
        WHERE e.user_id = $1
          AND ($2::bigint IS NULL
               OR (e.created_at, e.drop_id) < (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::bigint))
        ORDER BY e.created_at DESC, e.drop_id DESC
        LIMIT $4
        """

    /// The customer's entries, newest first, strictly after `cursor`: read from
    /// `customer_entries` (migration 0009), one index range of the customer's own rows whatever
    /// the number of drops, and still there after a drop's entries are archived.
    public func entries(userID: Int, after cursor: EntryCursor?, limit: Int) async throws -> [ListedEntry] {
        try await pool.withConnection { connection in
            let rows = try connection.query(
                Self.entriesSQL,
                [
                    .int(userID), cursor.map { .int($0.createdMicroseconds) } ?? .null,
                    cursor.map { .int($0.dropID) } ?? .null, .int(limit),
                ])
            // One query for the orders of the whole page, not one per entry.
            var ordersByDrop: [Int: Order] = [:]
            if rows.count > 0 {
                let dropIDs = try (0..<rows.count).map { try rows[$0].int(0) }
                ordersByDrop = try OrderStore.ordersByDrop(connection, userID: userID, dropIDs: dropIDs)
            }
            return try (0..<rows.count).map { index in
                let row = rows[index]
                guard let dropStatus = DropStatus(rawValue: try row.string(4)) else {
                    throw PostgresError(code: .decoding, message: "unknown drop status")
                }
                let entry = try Entry(row: row)
                let place = try row.optionalInt(6).map { RankingPlace(position: $0, orderID: try row.optionalInt(7)) }
                let standing = EntryStanding(
                    entry: entry, status: EntryStatus.of(dropStatus: dropStatus, stock: try row.int(5), place: place),
                    place: place, order: ordersByDrop[entry.dropID])
                return ListedEntry(standing: standing, cursor: EntryCursor(createdMicroseconds: try row.int(8), dropID: entry.dropID))
            }
        }
    }

    /// The customer's orders, newest (largest id) first, with ids below `beforeID` (nil: from the newest).
    public func orders(userID: Int, beforeID: Int?, limit: Int) async throws -> [Order] {
        try await pool.withConnection { try OrderStore.orders($0, userID: userID, beforeID: beforeID, limit: limit) }
    }
}
