import Postgres
import ShopDomain

/// Builds the published audit bundle of a drawn drop (SPEC §5) from what is stored.
public enum AuditBundleStore {
    public enum Lookup: Sendable {
        case bundle(AuditBundle)
        case notFound
        /// An open-run, or a draw not drawn yet: there is nothing to audit (and the seed is secret).
        case notDrawn
    }

    public static func bundle(_ connection: PostgresConnection, dropID: Int) throws -> Lookup {
        let rows = try connection.query("""
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
        return .bundle(AuditBundle(
            protocolName: DrawProtocolV1.identifier, dropID: dropID, commitment: commitment, seed: seed,
            beacon: try row.string(4), entriesDigest: digest, stock: stock, waitlistDepth: try row.int(7),
            entries: entries, winners: Array(ranking.prefix(stock)), waitlist: Array(ranking.dropFirst(stock))))
    }
}
