import Postgres
import ShopDomain

/// The published audit bundle of a drawn drop (docs/contract.md, "Draw protocol v1").
///
/// A draw stores its bundle once, in the transaction that commits the draw, as chunks of JSON
/// text in `audit_bundle_chunks` (see docs/design.md, "The stored audit bundle"): readers stream
/// it chunk by chunk and it outlives the drop's entries once they are archived. A draw committed
/// before bundles were stored has none; its bundle is rebuilt from the entries and the ranking.
public enum AuditBundleStore {
    /// About a megabyte of JSON per chunk: a bounded buffer for writer and readers alike, and
    /// few enough rows that a ten-million-entry bundle is a couple of hundred.
    public static let chunkBytes = 1 << 20

    public enum Lookup: Sendable {
        case bundle(AuditBundle)
        case notFound
        /// An open-run, or a draw not drawn yet: there is nothing to audit (and the seed is secret).
        case notDrawn
    }

    /// A stored bundle's size and name; its bytes are read with ``chunk(_:dropID:seq:)``.
    public struct Stored: Sendable, Equatable {
        public let byteCount: Int
        public let chunkCount: Int
        /// hex SHA-256 of the whole document.
        public let sha256: String
    }

    public enum Source: Sendable {
        case stored(Stored)
        /// Drawn before bundles were stored.
        case rebuilt(AuditBundle)
        case notFound
        case notDrawn
    }

    // MARK: writing

    /// Writes `bundle` as the drop's stored bundle, chunk by chunk, on `connection` (inside the
    /// draw's transaction). Returns what was stored.
    @discardableResult
    public static func store(_ connection: PostgresConnection, _ bundle: AuditBundle) throws -> Stored {
        var hash = ContentHash()
        var seq = 0
        var byteCount = 0
        try bundle.writeJSON(chunkBytes: chunkBytes) { (chunk: [UInt8]) throws(any Error) in
            hash.update(chunk)
            byteCount += chunk.count
            try connection.query(
                "INSERT INTO audit_bundle_chunks (drop_id, seq, bytes) VALUES ($1, $2, $3)",
                [.int(bundle.dropID), .int(seq), .text(String(decoding: chunk, as: UTF8.self))],
                preparedAs: "audit_bundle_chunk_insert")
            seq += 1
        }
        let stored = Stored(byteCount: byteCount, chunkCount: seq, sha256: hash.finalize())
        try connection.query(
            "INSERT INTO audit_bundles (drop_id, byte_count, chunk_count, sha256) VALUES ($1, $2, $3, $4)",
            [.int(bundle.dropID), .int(stored.byteCount), .int(stored.chunkCount), .text(stored.sha256)])
        return stored
    }

    // MARK: reading

    /// Where the drop's bundle comes from: its stored chunks, or (drawn before bundles were
    /// stored) a rebuild from its entries and ranking.
    public static func source(_ connection: PostgresConnection, dropID: Int) throws -> Source {
        let rows = try connection.query(
            """
            SELECT d.kind, d.status, b.byte_count, b.chunk_count, b.sha256
            FROM drops d LEFT JOIN audit_bundles b ON b.drop_id = d.id
            WHERE d.id = $1
            """, [.int(dropID)])
        guard let row = rows.first else { return .notFound }
        guard let kind = DropKind(rawValue: try row.string(0)), kind.isDrawn,
            let status = DropStatus(rawValue: try row.string(1)), status == .drawn || status == .settled
        else { return .notDrawn }
        if let byteCount = try row.optionalInt(2) {
            return .stored(Stored(byteCount: byteCount, chunkCount: try row.int(3), sha256: try row.string(4)))
        }
        switch try rebuilt(connection, dropID: dropID) {
        case .bundle(let bundle): return .rebuilt(bundle)
        case .notFound: return .notFound
        case .notDrawn: return .notDrawn
        }
    }

    /// One chunk of a stored bundle, `seq` in `0..<chunkCount`.
    public static func chunk(_ connection: PostgresConnection, dropID: Int, seq: Int) throws -> [UInt8] {
        let rows = try connection.query(
            "SELECT bytes FROM audit_bundle_chunks WHERE drop_id = $1 AND seq = $2", [.int(dropID), .int(seq)])
        guard let row = rows.first else {
            throw PostgresError(code: .decoding, message: "drop \(dropID): chunk \(seq) of its audit bundle is missing")
        }
        return Array(try row.string(0).utf8)
    }

    /// The stored bundle, parsed; nil when the drop has none stored.
    public static func storedBundle(_ connection: PostgresConnection, dropID: Int) throws -> AuditBundle? {
        guard case .stored(let stored) = try source(connection, dropID: dropID) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(stored.byteCount)
        for seq in 0..<stored.chunkCount { bytes += try chunk(connection, dropID: dropID, seq: seq) }
        do {
            return try AuditBundle(jsonBytes: bytes)
        } catch {
            throw PostgresError(code: .decoding, message: "drop \(dropID): its stored audit bundle does not parse: \(error)")
        }
    }

    /// The drop's bundle, parsed: the stored one, else rebuilt.
    public static func bundle(_ connection: PostgresConnection, dropID: Int) throws -> Lookup {
        switch try source(connection, dropID: dropID) {
        case .stored:
            guard let bundle = try storedBundle(connection, dropID: dropID) else { return .notDrawn }
            return .bundle(bundle)
        case .rebuilt(let bundle): return .bundle(bundle)
        case .notFound: return .notFound
        case .notDrawn: return .notDrawn
        }
    }

    /// The bundle as the drop's row, entries and ranking state it now (never the stored copy).
    public static func rebuilt(_ connection: PostgresConnection, dropID: Int) throws -> Lookup {
        let rows = try connection.query(
            """
            SELECT kind, status, seed, commitment, beacon, entries_digest, stock, waitlist_depth
            FROM drops WHERE id = $1
            """, [.int(dropID)])
        guard let row = rows.first else { return .notFound }
        guard let kind = DropKind(rawValue: try row.string(0)), kind.isDrawn,
            let status = DropStatus(rawValue: try row.string(1)), status == .drawn || status == .settled,
            let seed = try row.optionalByteArray(2), let commitment = try row.optionalString(3),
            let digest = try row.optionalString(5)
        else { return .notDrawn }
        let stock = try row.int(6)
        let (entries, _) = try DrawStore.canonicalEntries(connection, dropID: dropID)
        let ranking = try connection.query(
            "SELECT user_id FROM drop_rankings WHERE drop_id = $1 ORDER BY position", [.int(dropID)]
        ).map { try $0.int(0) }
        return .bundle(
            AuditBundle(
                protocolName: DrawProtocolV1.identifier, dropID: dropID, commitment: commitment, seed: seed,
                beacon: try row.string(4), entriesDigest: digest, stock: stock, waitlistDepth: try row.int(7),
                entries: entries, winners: Array(ranking.prefix(stock)), waitlist: Array(ranking.dropFirst(stock))))
    }
}
