import Foundation
import Postgres
import Storage
import Testing

/// The migrator applies each file once, in order, all or nothing, whoever runs it and how often.
@Suite struct MigratorTests {
    @Test func secondRunAppliesNothingAndChangesNothing() async throws {
        try await withEmptyDatabase { pool in
            let migrator = try Migrator()
            #expect(!migrator.migrations.isEmpty)
            let first = try await migrator.migrate(pool)
            #expect(first == migrator.migrations.map(\.name))
            let recorded = try await schemaMigrations(pool)
            #expect(recorded.map(\.version) == migrator.migrations.map(\.version))
            let schema = try await schemaFingerprint(pool)

            let second = try await migrator.migrate(pool)
            #expect(second.isEmpty)
            // Same rows, same applied_at: nothing was re-applied or re-recorded.
            #expect(try await schemaMigrations(pool) == recorded)
            #expect(try await schemaFingerprint(pool) == schema)
        }
    }

    @Test func anAlreadyMigratedDatabaseIsUpToDate() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let before = try await schemaMigrations(pool)
            #expect(try await Migrator().migrate(pool).isEmpty)
            #expect(try await schemaMigrations(pool) == before)
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        try await withEmptyDatabase { pool in
            let configuration = pool.configuration
            let migrator = try Migrator()
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for index in 0..<4 {
                    group.addTask {
                        let own = PostgresPool(configuration: configuration, size: 1, name: "migrate-\(index)")
                        do {
                            let names = try await migrator.migrate(own)
                            await own.shutdown()
                            return names
                        } catch {
                            await own.shutdown()
                            throw error
                        }
                    }
                }
                var applied: [String] = []
                for try await names in group { applied += names }
                return applied
            }
            #expect(applied.sorted() == migrator.migrations.map(\.name).sorted())
            #expect(try await schemaMigrations(pool).map(\.version) == migrator.migrations.map(\.version))
        }
    }

    @Test func aFailingFileLeavesNothingBehindAndIsAppliedOnceFixed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ sql: String) throws {
            try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("0001_first.sql", "CREATE TABLE first (id integer PRIMARY KEY);")
        try write("0002_second.sql", "CREATE TABLE second (id integer PRIMARY KEY);\nSELECT 1 / 0;")
        try write("README.txt", "not a migration")

        try await withEmptyDatabase { pool in
            let failing = try Migrator(directory: directory)
            #expect(failing.migrations.map(\.name) == ["0001_first", "0002_second"])
            let error = await #expect(throws: PostgresError.self) { try await failing.migrate(pool) }
            #expect(error?.code == PostgresError.Code("22012"))  // division_by_zero
            #expect(try await schemaMigrations(pool).map(\.name) == ["0001_first"])
            #expect(try await pool.query("SELECT to_regclass('second') IS NULL")[0].bool(0))

            try write("0002_second.sql", "CREATE TABLE second (id integer PRIMARY KEY);")
            let fixed = try Migrator(directory: directory)
            #expect(try await fixed.migrate(pool) == ["0002_second"])
            #expect(try await schemaMigrations(pool).map(\.name) == ["0001_first", "0002_second"])
            #expect(try await fixed.migrate(pool).isEmpty)
        }
    }

    @Test func badFileNamesAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: directory.appendingPathComponent("001_b.sql"), atomically: true, encoding: .utf8)
        #expect(throws: PostgresError.self) { try Migrator(directory: directory) }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("001_b.sql"))
        try "SELECT 1;".write(to: directory.appendingPathComponent("later.sql"), atomically: true, encoding: .utf8)
        #expect(throws: PostgresError.self) { try Migrator(directory: directory) }
    }

    struct Recorded: Equatable, Sendable {
        let version: Int
        let name: String
        let appliedAt: Date
    }

    private func schemaMigrations(_ pool: PostgresPool) async throws -> [Recorded] {
        try await pool.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").map {
            Recorded(version: try $0.int(0), name: try $0.string(1), appliedAt: try $0.date(2))
        }
    }

    /// Every column and index of the public schema, as one comparable text.
    private func schemaFingerprint(_ pool: PostgresPool) async throws -> String {
        try await pool.query(
            """
            SELECT coalesce((SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || is_nullable,
                                               ',' ORDER BY table_name, ordinal_position)
                             FROM information_schema.columns WHERE table_schema = 'public'), '')
                || '|' ||
                   coalesce((SELECT string_agg(indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'), '')
            """)[0].string(0)
    }
}

/// Runs `body` with a pool on a new database that has no schema at all, then drops it.
func withEmptyDatabase<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
    let name = "t_empty_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let admin = PostgresPool(configuration: try await TestServices.shared.postgresConfiguration(database: "postgres"), size: 1, name: "test-admin")
    do {
        try await admin.query("CREATE DATABASE \(name)")
        await admin.shutdown()
    } catch {
        await admin.shutdown()
        throw error
    }
    let pool = PostgresPool(configuration: try await TestServices.shared.postgresConfiguration(database: name), size: 2, name: "test-empty")
    do {
        let value = try await body(pool)
        await pool.shutdown()
        try await TestServices.shared.dropDatabase(name)
        return value
    } catch {
        await pool.shutdown()
        try? await TestServices.shared.dropDatabase(name)
        throw error
    }
}
