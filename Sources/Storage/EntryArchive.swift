import Postgres
import ShopDomain

/// `admin archive-drop`: a settled drop's entries partition is detached from `entries` and kept,
/// whole, in the `entries_archive` schema. The drop keeps publishing its draw: its audit bundle
/// is stored (written now for a draw committed before bundles were stored) before the entries go.
public enum EntryArchive {
    /// Why a drop cannot be archived; the description is one line, safe to print.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Code: String, Sendable {
            case noSuchDrop = "no-such-drop"
            case openRun = "open-run"
            case notSettled = "not-settled"
        }

        public let code: Code
        public let description: String
    }

    public enum Outcome: Sendable, Equatable {
        /// The partition is detached now; it held this many entries.
        case archived(table: String, entries: Int)
        case alreadyArchived(table: String)
    }

    static func partitionName(_ dropID: Int) -> String { "entries_drop_\(dropID)" }

    public static func archive(_ connection: PostgresConnection, dropID: Int) throws -> Outcome {
        let table = partitionName(dropID)
        let archived = "entries_archive.\(table)"
        let rows = try connection.query(
            "SELECT kind, status, entries_archived_at IS NOT NULL FROM drops WHERE id = $1", [.int(dropID)])
        guard let row = rows.first else { throw Refusal(code: .noSuchDrop, description: "there is no drop \(dropID)") }
        guard try row.string(0) != DropKind.openRun.rawValue else {
            throw Refusal(code: .openRun, description: "drop \(dropID) is an open-run; it has no entries to archive")
        }
        if try row.bool(2) { return .alreadyArchived(table: archived) }
        let status = try row.string(1)
        // Settled is final: nothing can offer a unit to an entrant or change the draw any more.
        guard status == DropStatus.settled.rawValue else {
            throw Refusal(code: .notSettled, description: "drop \(dropID) is \(status), not settled; only a settled drop can be archived")
        }

        try storeBundleIfMissing(connection, dropID: dropID)

        let entries = try connection.withoutReplyTimeout {
            try connection.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        }
        // Detached concurrently: the intake's writes and reads of other drops never wait. A
        // detach interrupted half way is finished instead. (Neither runs inside a transaction.)
        let attached = try connection.query(
            """
            SELECT i.inhdetachpending FROM pg_inherits i
            WHERE i.inhrelid = to_regclass('public.' || $1) AND i.inhparent = 'public.entries'::regclass
            """, [.text(table)])
        if let state = attached.first {
            let finish = try state.bool(0) ? "FINALIZE" : "CONCURRENTLY"
            try connection.withoutReplyTimeout {
                try connection.execute(script: "ALTER TABLE entries DETACH PARTITION \(table) \(finish)")
            }
        }
        try connection.transaction { transaction in
            if try transaction.query("SELECT to_regclass('public.' || $1) IS NOT NULL", [.text(table)])[0].bool(0) {
                try transaction.execute(script: "ALTER TABLE public.\(table) SET SCHEMA entries_archive")
            }
            try transaction.query(
                "UPDATE drops SET entries_archived_at = now() WHERE id = $1 AND entries_archived_at IS NULL", [.int(dropID)])
        }
        return .archived(table: archived, entries: entries)
    }

    /// A draw committed before bundles were stored gets its bundle now, rebuilt from the entries
    /// while they are still attached, under the drop's row lock (two archivers store it once).
    private static func storeBundleIfMissing(_ connection: PostgresConnection, dropID: Int) throws {
        try connection.withoutReplyTimeout {
            try connection.transaction { transaction in
                try transaction.query("SELECT 1 FROM drops WHERE id = $1 FOR UPDATE", [.int(dropID)])
                let stored = try transaction.query("SELECT 1 FROM audit_bundles WHERE drop_id = $1", [.int(dropID)])
                guard stored.isEmpty, case .bundle(let bundle) = try AuditBundleStore.rebuilt(transaction, dropID: dropID) else { return }
                try AuditBundleStore.store(transaction, bundle)
            }
        }
    }
}
