import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// Migration 0008 moves the entries already stored into their drops' partitions.
@Suite struct EntryPartitionMigrationTests {
    @Test func existingEntriesMoveIntoTheirDropsPartitionsAndStillDraw() async throws {
        try await withEmptyDatabase { pool in
            let all = try Migrator()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for migration in all.migrations where migration.version < 8 {
                try migration.sql.write(to: directory.appendingPathComponent(migration.name + ".sql"), atomically: true, encoding: .utf8)
            }
            try await Migrator(directory: directory).migrate(pool)

            // Before 0008: one entries table for every drop.
            let first = try await DropFixtures.insertDrop(pool, kind: .draw, status: .closing, stock: 2, waitlistDepth: 3)
            let second = try await DropFixtures.insertDrop(pool, kind: .raffle, stock: 2, maxTickets: 5)
            let openRun = try await DropFixtures.insertDrop(pool, kind: .openRun, closesIn: nil)
            let customers = try await DropFixtures.insertCustomers(pool, count: 30)
            try await DropFixtures.insertEntries(pool, dropID: first, users: customers)
            try await DropFixtures.insertEntries(pool, dropID: second, users: Array(customers.prefix(12)), tickets: { 1 + $0 % 5 })
            let before = try await pool.query("SELECT drop_id, user_id, tickets, created_at FROM entries ORDER BY 1, 2")
                .map { "\(try $0.int(0)) \(try $0.int(1)) \(try $0.int(2)) \(try $0.string(3))" }

            #expect(try await all.migrate(pool).first == "0008_entries_by_drop")
            let after = try await pool.query("SELECT drop_id, user_id, tickets, created_at FROM entries ORDER BY 1, 2")
                .map { "\(try $0.int(0)) \(try $0.int(1)) \(try $0.int(2)) \(try $0.string(3))" }
            #expect(after == before)
            #expect(try await pool.query("SELECT count(*) FROM entries_drop_\(first)")[0].int(0) == 30)
            #expect(try await pool.query("SELECT count(*) FROM entries_drop_\(second)")[0].int(0) == 12)
            #expect(try await pool.query("SELECT to_regclass($1) IS NULL", [.text("entries_drop_\(openRun)")])[0].bool(0))
            #expect(try await pool.query("SELECT to_regclass('entries_unpartitioned') IS NULL")[0].bool(0))

            // The moved entries draw, and the draw's stored bundle verifies.
            try await MoneyFixtures.draw(pool, dropID: first)
            guard case .bundle(let bundle) = try await pool.withConnection({ try AuditBundleStore.bundle($0, dropID: first) }) else {
                Issue.record("no bundle")
                return
            }
            #expect(bundle.canonicalEntries.count == 30)
            #expect(AuditVerifier.verify(bundle) == [])
            #expect(try await MoneyFixtures.audit(pool) == [])
        }
    }
}

/// Migration 0009 lists every entry stored so far in `customer_entries`, an archived drop's too.
@Suite struct CustomerEntriesMigrationTests {
    @Test func entriesAndArchivedEntriesAreListedAfterTheMigration() async throws {
        try await withEmptyDatabase { pool in
            let all = try Migrator()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for migration in all.migrations where migration.version < 9 {
                try migration.sql.write(to: directory.appendingPathComponent(migration.name + ".sql"), atomically: true, encoding: .utf8)
            }
            try await Migrator(directory: directory).migrate(pool)

            let kept = try await DropFixtures.insertDrop(pool, kind: .draw)
            let archived = try await DropFixtures.insertDrop(pool, kind: .raffle, maxTickets: 4)
            let customers = try await DropFixtures.insertCustomers(pool, count: 8)
            try await DropFixtures.insertEntries(pool, dropID: kept, users: customers)
            try await DropFixtures.insertEntries(pool, dropID: archived, users: Array(customers.prefix(5)), tickets: { 1 + $0 % 4 })
            func rows(_ sql: String) async throws -> [String] {
                try await pool.query(sql).map { try $0.string(0) }
            }
            let line = "concat_ws(' ', drop_id, user_id, tickets, created_at)"
            let before = try await rows("SELECT \(line) FROM entries ORDER BY drop_id, user_id")
            // As `admin archive-drop` leaves it (the detach itself is EntryArchiveTests').
            try await pool.query("ALTER TABLE entries DETACH PARTITION entries_drop_\(archived)")
            try await pool.query("ALTER TABLE entries_drop_\(archived) SET SCHEMA entries_archive")
            try await pool.query("UPDATE drops SET entries_archived_at = now() WHERE id = $1", [.int(archived)])

            #expect(try await all.migrate(pool).first?.hasPrefix("0009_") == true)
            #expect(before.count == 13)
            #expect(try await rows("SELECT \(line) FROM customer_entries ORDER BY drop_id, user_id") == before)
        }
    }
}

/// Each drop's partition carries its own copy of the key to users (`entries_user_id_fkey1`, …):
/// an entry from an account deleted after its token was verified is still a 401, never a 500.
@Suite struct EntryPartitionKeyTests {
    @Test func anEntryFromADeletedAccountIs401OnAPartition() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop(kind: .draw)
            let customer = try await server.makeUser()
            #expect(try await server.call("GET", "/v1/me/orders", token: customer.token).status == 200)
            _ = try await server.pool.query("DELETE FROM users WHERE id = $1", [.int(customer.id)])
            let entry = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token)
            #expect(entry.status == 401, "\(entry.bodyText)")
        }
    }
}
