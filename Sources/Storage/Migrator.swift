import Foundation
import Postgres

/// Applies the ordered SQL files in `Migrations/` that the database has not seen yet.
///
/// Each file runs in its own transaction together with its row in `schema_migrations`, under a
/// transaction-scoped advisory lock, so concurrent `migrate` runs cannot apply a file twice and
/// a failing file leaves nothing behind. Running it again is a no-op.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    public let migrations: [Migration]

    public init() throws {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw PostgresError(code: .protocolViolation, message: "migrations are missing from the bundle")
        }
        try self.init(directory: directory)
    }

    public init(directory: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        migrations = try files.map { file in
            guard let version = Int(file.prefix { $0.isNumber }) else {
                throw PostgresError(code: .protocolViolation, message: "migration \(file) does not start with a version number")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: String(file.dropLast(4)), sql: sql)
        }
        let versions = migrations.map(\.version)
        guard Set(versions).count == versions.count else {
            throw PostgresError(code: .protocolViolation, message: "two migrations share a version number")
        }
    }

    /// Applies what is missing; returns the names applied now (empty when up to date).
    @discardableResult
    public func migrate(_ pool: PostgresPool) async throws -> [String] {
        let migrations = self.migrations
        return try await pool.withConnection { connection in
            // Under the same lock as the files: CREATE TABLE IF NOT EXISTS is not safe against
            // itself, two sessions can both see no table and one then fails on pg_type's
            // unique index.
            try connection.transaction { transaction in
                try transaction.query("SELECT pg_advisory_xact_lock(7357001)")
                try transaction.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer     PRIMARY KEY,
                        name       text        NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """)
            }
            var applied: [String] = []
            for migration in migrations {
                let done = try connection.transaction { transaction -> Bool in
                    // Serialises concurrent migrators; released at COMMIT/ROLLBACK.
                    try transaction.query("SELECT pg_advisory_xact_lock(7357001)")
                    let existing = try transaction.query(
                        "SELECT 1 FROM schema_migrations WHERE version = $1", [.int(migration.version)])
                    if existing.count > 0 { return false }
                    try transaction.execute(script: migration.sql)
                    try transaction.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [.int(migration.version), .text(migration.name)])
                    return true
                }
                if done { applied.append(migration.name) }
            }
            return applied
        }
    }
}
