import Foundation
import Postgres
import ShopDomain
import Synchronization

/// One customer's request to enter one drop.
public struct EntryRequest: Sendable, Equatable {
    public var dropID: Int
    public var userID: Int
    /// As the customer sent it; nil means the default (one ticket).
    public var tickets: Int?

    public init(dropID: Int, userID: Int, tickets: Int?) {
        self.dropID = dropID
        self.userID = userID
        self.tickets = tickets
    }
}

/// What became of one ``EntryRequest``.
public enum EntryOutcome: Sendable {
    /// A new entry, committed.
    case created(Entry)
    /// The customer had already entered: the entry as it stands (idempotent repeat).
    case existing(Entry)
    /// The drop exists but takes no entries now (not open, or outside its window).
    case notOpen
    /// The drop is an open-run: it sells to the first comers and takes no entries.
    case openRun
    case noSuchDrop
    case invalid(ValidationFailure)
}

/// A customer's entry together with what the draw made of it.
public struct EntryStanding: Sendable {
    public var entry: Entry
    public var status: EntryStatus
    public var place: RankingPlace?
    public var order: Order?
}

/// What entry validation needs to know about a drop. Both are fixed when the drop is created,
/// so a writer may remember them for good.
public struct DropFacts: Sendable {
    public let kind: DropKind
    public let maxTickets: Int
}

/// ``DropFacts`` of the drops entries were sent to, loaded once per drop.
public final class DropFactsCache: Sendable {
    private let known = Mutex<[Int: DropFacts]>([:])

    public init() {}

    /// The facts of those of `dropIDs` that exist.
    func facts(for dropIDs: Set<Int>, on connection: PostgresConnection) throws -> [Int: DropFacts] {
        var found = known.withLock { known in
            var found: [Int: DropFacts] = [:]
            for id in dropIDs { found[id] = known[id] }
            return found
        }
        let missing = dropIDs.subtracting(found.keys)
        guard !missing.isEmpty else { return found }
        let rows = try connection.query("SELECT id, kind, max_tickets FROM drops WHERE id = ANY($1::bigint[])", [.intArray(missing)])
        var loaded: [Int: DropFacts] = [:]
        for index in 0..<rows.count {
            guard let kind = DropKind(rawValue: try rows[index].string(1)) else {
                throw PostgresError(code: .decoding, message: "unknown drop kind")
            }
            loaded[try rows[index].int(0)] = DropFacts(kind: kind, maxTickets: try rows[index].int(2))
        }
        known.withLock { $0.merge(loaded) { old, _ in old } }
        found.merge(loaded) { old, _ in old }
        return found
    }
}

/// Entries in PostgreSQL.
public struct EntryStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    struct EntryKey: Hashable {
        let dropID: Int
        let userID: Int
    }

    /// Commits a batch of entry requests on `connection` (group commit) and returns one outcome
    /// per request, in order.
    ///
    /// The batch is one statement, so one round trip and one commit for every request in it;
    /// its result arrives only once the commit is durable. Its first step reads the drops
    /// `FOR SHARE`, and only while open and inside their window: moving a drop to `closing` is an
    /// UPDATE, which waits for every batch holding the share lock (and a batch that finds the
    /// row already moved re-checks it and inserts nothing), so no entry lands after the freeze.
    /// `writer` names this writer's own `drop_entry_counts` row, so concurrent writers never
    /// wait on each other's counter. Tickets are checked against the drop's kind beforehand,
    /// from ``DropFacts`` that never change once a drop exists.
    public static func commit(
        _ batch: [EntryRequest], writer: Int, facts: DropFactsCache, on connection: PostgresConnection
    ) throws -> [EntryOutcome] {
        let known = try facts.facts(for: Set(batch.map(\.dropID)), on: connection)
        var outcomes = [EntryOutcome?](repeating: nil, count: batch.count)
        // The first valid request per (drop, customer) may insert; the others are repeats.
        var candidates: [(index: Int, key: EntryKey, tickets: Int)] = []
        var claimed = Set<EntryKey>()
        // Requests answered with the entry as stored: repeats, and requests for drops that are
        // not accepting (an earlier entry there is still answered idempotently).
        var lookups: [Int] = []
        for (index, request) in batch.enumerated() {
            guard let drop = known[request.dropID] else {
                outcomes[index] = .noSuchDrop
                continue
            }
            if drop.kind == .openRun {
                outcomes[index] = .openRun
                continue
            }
            do {
                let tickets = try EntryRules.tickets(requested: request.tickets, kind: drop.kind, maxTickets: drop.maxTickets)
                let key = EntryKey(dropID: request.dropID, userID: request.userID)
                if claimed.insert(key).inserted {
                    candidates.append((index, key, tickets))
                } else {
                    lookups.append(index)
                }
            } catch let failure as ValidationFailure {
                outcomes[index] = .invalid(failure)
            }
        }
        // One lock order for every writer: two batches holding the same customers' repeats in
        // opposite orders would otherwise deadlock on the primary key.
        candidates.sort { ($0.key.dropID, $0.key.userID) < ($1.key.dropID, $1.key.userID) }

        var inserted: [EntryKey: Entry] = [:]
        if !candidates.isEmpty {
            let rows = try connection.query(
                """
                WITH open_drops AS (
                    SELECT id FROM drops
                    WHERE id = ANY($1::bigint[]) AND status = 'open'
                      AND opens_at <= now() AND (closes_at IS NULL OR closes_at > now())
                    FOR SHARE
                ), inserted AS (
                    INSERT INTO entries (drop_id, user_id, tickets)
                    SELECT c.drop_id, c.user_id, c.tickets
                    FROM unnest($2::bigint[], $3::bigint[], $4::integer[]) WITH ORDINALITY AS c(drop_id, user_id, tickets, n)
                    WHERE c.drop_id IN (SELECT id FROM open_drops)
                    ORDER BY c.n
                    ON CONFLICT (drop_id, user_id) DO NOTHING
                    RETURNING drop_id, user_id, tickets, created_at
                ), counted AS (
                    INSERT INTO drop_entry_counts (drop_id, writer, entries)
                    SELECT drop_id, $5, count(*) FROM inserted GROUP BY drop_id
                    ON CONFLICT (drop_id, writer) DO UPDATE SET entries = drop_entry_counts.entries + EXCLUDED.entries
                )
                SELECT drop_id, user_id, tickets, created_at FROM inserted
                """,
                [
                    .intArray(Set(candidates.map(\.key.dropID))), .intArray(candidates.map(\.key.dropID)),
                    .intArray(candidates.map(\.key.userID)), .intArray(candidates.map(\.tickets)), .int(writer),
                ],
                // The statement every batch runs: planned once per writer connection.
                preparedAs: "intake_commit_entries")
            for index in 0..<rows.count {
                let entry = try Entry(row: rows[index])
                inserted[EntryKey(dropID: entry.dropID, userID: entry.userID)] = entry
            }
        }
        for candidate in candidates {
            if let entry = inserted[candidate.key] {
                outcomes[candidate.index] = .created(entry)
            } else {
                // Entered before (a repeat), or the drop is not accepting entries.
                lookups.append(candidate.index)
            }
        }
        if !lookups.isEmpty {
            let stored = try storedEntries(lookups.map { batch[$0] }, inserted: inserted, on: connection)
            for index in lookups {
                let key = EntryKey(dropID: batch[index].dropID, userID: batch[index].userID)
                outcomes[index] = stored[key].map(EntryOutcome.existing) ?? .notOpen
            }
        }
        return outcomes.map { $0! }
    }

    /// The stored entries of these requests (those just inserted included).
    private static func storedEntries(
        _ requests: [EntryRequest], inserted: [EntryKey: Entry], on connection: PostgresConnection
    ) throws -> [EntryKey: Entry] {
        var stored = inserted
        let missing = requests.filter { stored[EntryKey(dropID: $0.dropID, userID: $0.userID)] == nil }
        guard !missing.isEmpty else { return stored }
        // One statement per drop, its id a parameter the planner sees: PostgreSQL then plans the
        // drop's partition alone. (Keys joined from an array reach every partition, and planning
        // them costs a hundred times more: docs/design.md, "Draws at ten million entries".)
        for (dropID, requests) in Dictionary(grouping: missing, by: \.dropID) {
            let rows = try connection.query(
                """
                SELECT e.drop_id, e.user_id, e.tickets, e.created_at
                FROM entries e
                WHERE e.drop_id = $1 AND e.user_id = ANY ($2::bigint[])
                """,
                [.int(dropID), .intArray(requests.map(\.userID))])
            for index in 0..<rows.count {
                let entry = try Entry(row: rows[index])
                stored[EntryKey(dropID: entry.dropID, userID: entry.userID)] = entry
            }
        }
        return stored
    }

    /// The customer's entry in a drop and where it stands; nil when they have not entered.
    /// Read from the customer's own rows (`customer_entries`, migration 0009), which outlive the
    /// drop's archived entries partition.
    public func standing(dropID: Int, userID: Int) async throws -> EntryStanding? {
        try await pool.withConnection { connection in
            let rows = try connection.query(
                """
                SELECT e.drop_id, e.user_id, e.tickets, e.created_at, d.status, d.stock, r.position, r.order_id
                FROM customer_entries e
                JOIN drops d ON d.id = e.drop_id
                LEFT JOIN drop_rankings r ON r.drop_id = e.drop_id AND r.user_id = e.user_id
                WHERE e.drop_id = $1 AND e.user_id = $2
                """,
                [.int(dropID), .int(userID)])
            guard let row = rows.first else { return nil }
            guard let dropStatus = DropStatus(rawValue: try row.string(4)) else {
                throw PostgresError(code: .decoding, message: "unknown drop status")
            }
            let place = try row.optionalInt(6).map { RankingPlace(position: $0, orderID: try row.optionalInt(7)) }
            return EntryStanding(
                entry: try Entry(row: row),
                status: EntryStatus.of(dropStatus: dropStatus, stock: try row.int(5), place: place),
                place: place,
                order: try OrderStore.order(connection, dropID: dropID, userID: userID))
        }
    }
}

extension Entry {
    init(row: PostgresRow) throws {
        self.init(dropID: try row.int(0), userID: try row.int(1), tickets: try row.int(2), createdAt: try row.date(3))
    }
}
