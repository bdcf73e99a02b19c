import Postgres
import Testing

@Suite struct PostgresSmokeTests {
    @Test func migratedDatabaseAnswers() async throws {
        try await withTestDatabase { pool, _ in
            let rows = try await pool.query("SELECT count(*) FROM schema_migrations")
            #expect(try rows[0].int(0) >= 2)
        }
    }
}
