import Foundation
import Postgres
import ShopDomain

/// Drops in PostgreSQL. A single status change goes through ``move(dropID:from:to:kind:)``: the
/// state machine allows it, and the UPDATE names the status it expects. (The database refuses any
/// move the state machine does not list, whoever makes it: see ``DropStatus``.)
public struct DropStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    static let columns = """
        d.id, d.product_id, d.kind, d.status, d.stock, d.available, d.held, d.sold, d.opens_at, d.closes_at,
        d.max_tickets, d.waitlist_depth, d.commitment, d.seed, d.beacon, d.entries_digest, d.drawn_at, d.created_at,
        coalesce((SELECT sum(c.entries) FROM drop_entry_counts c WHERE c.drop_id = d.id), 0) AS entry_count,
        d.price_cents, d.currency
        """

    /// Creates the drop; a draw or raffle gets a fresh seed and its commitment (docs/contract.md, "Draw
    /// protocol v1", step 1). The product's price and currency are copied onto it and locked (trigger
    /// `drops_lock_price`). Throws ``ValidationFailure`` on `product_id` when the product does not
    /// exist.
    public func create(_ new: NewDrop, createdBy: Int) async throws -> DropOverview {
        let seed: [UInt8]? = new.kind.isDrawn ? DrawProtocolV1.makeSeed() : nil
        do {
            return try await pool.transaction { connection in
                // The database clock decides, as it does for entries: one clock, no skew.
                let now = try connection.query("SELECT now()")[0].date(0)
                let status = DropStatus.initial(opensAt: new.opensAt, now: now)
                let rows = try connection.query(
                    """
                    WITH d AS (
                        INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at,
                                           max_tickets, waitlist_depth, seed, commitment, created_by)
                        VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11)
                        RETURNING *
                    )
                    SELECT \(Self.columns) FROM d
                    """,
                    [
                        .int(new.productID), .text(new.kind.rawValue), .text(status.rawValue), .int(new.stock),
                        .timestamp(new.opensAt), .timestamp(new.closesAt), .int(new.maxTickets), .int(new.waitlistDepth),
                        seed.map { .bytes($0) } ?? .null, .text(seed.map(DrawProtocolV1.commitment(seed:))), .int(createdBy),
                    ])
                return try DropOverview(row: rows[0])
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw ValidationFailure([ValidationIssue(field: "product_id", message: "no such product")])
        }
    }

    public func fetch(id: Int) async throws -> DropOverview? {
        let rows = try await pool.query("SELECT \(Self.columns) FROM drops d WHERE d.id = $1", [.int(id)])
        return try rows.first.map(DropOverview.init(row:))
    }

    /// Drops in id order after `afterID`, optionally only those in `status`.
    public func list(status: DropStatus?, afterID: Int, limit: Int) async throws -> [DropOverview] {
        let rows = try await pool.query(
            """
            SELECT \(Self.columns) FROM drops d
            WHERE d.id > $1 AND ($2::text IS NULL OR d.status = $2)
            ORDER BY d.id LIMIT $3
            """,
            [.int(afterID), .text(status?.rawValue), .int(limit)])
        return try rows.map(DropOverview.init(row:))
    }

    /// Moves a drop from `from` to `to` on `connection` (inside the caller's transaction when it
    /// has one). Returns false when the drop was not in `from` any more (someone else moved it);
    /// throws ``InvalidDropTransition`` for a move the state machine forbids.
    public static func move(
        dropID: Int, from: DropStatus, to: DropStatus, kind: DropKind, on connection: PostgresConnection
    ) throws -> Bool {
        let next = try from.moved(to: to, kind: kind)
        let rows = try connection.query(
            "UPDATE drops SET status = $3, updated_at = now() WHERE id = $1 AND status = $2 AND kind = $4",
            [.int(dropID), .text(from.rawValue), .text(next.rawValue), .text(kind.rawValue)])
        return rows.affectedRows == 1
    }

    /// ``move(dropID:from:to:kind:on:)`` on a borrowed connection.
    public func move(dropID: Int, from: DropStatus, to: DropStatus, kind: DropKind) async throws -> Bool {
        try await pool.withConnection { try Self.move(dropID: dropID, from: from, to: to, kind: kind, on: $0) }
    }
}

extension DropOverview {
    init(row: PostgresRow) throws {
        guard let kind = DropKind(rawValue: try row.string(2)), let status = DropStatus(rawValue: try row.string(3)) else {
            throw PostgresError(code: .decoding, message: "unknown drop kind or status")
        }
        let drop = Drop(
            id: try row.int(0), productID: try row.int(1), kind: kind, status: status, stock: try row.int(4),
            available: try row.int(5), held: try row.int(6), sold: try row.int(7), opensAt: try row.date(8),
            closesAt: try row.optionalDate(9), maxTickets: try row.int(10), waitlistDepth: try row.int(11),
            commitment: try row.optionalString(12), seed: try row.optionalByteArray(13), beacon: try row.string(14),
            entriesDigest: try row.optionalString(15), drawnAt: try row.optionalDate(16), createdAt: try row.date(17),
            priceCents: try row.int(19), currency: try row.string(20))
        self.init(drop: drop, entryCount: try row.int(18))
    }
}
