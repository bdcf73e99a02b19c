import Foundation
import Postgres
import Storage
import Testing

@testable import Scheduler

/// A PostgreSQL primary with a synchronous standby (`scripts/cluster up --postgres-only`),
/// reached through libpq's multi-host string: after the primary dies (SIGKILL) and the standby
/// is promoted, the same configuration lands on the new primary, every committed row is there,
/// and the scheduler's leadership moves on with a higher term.
@Suite(.serialized) struct PostgresFailoverTests {
    @Test func rolesReconnectToThePromotedStandbyAndTheLeaderTermGoesOn() async throws {
        try await withPostgresStandby { cluster in
            let configuration = cluster.postgresConfiguration
            #expect(configuration.servers.count == 2)
            let pool = PostgresPool(configuration: configuration, size: 2, name: "failover-test")
            try await Migrator().migrate(pool)
            let lock = LeaderLock(configuration: configuration, candidate: "failover-test")
            defer { lock.shutdown() }
            let firstTerm = try #require(try await lock.tryAcquire())

            let primaryPort = try await pool.withConnection { try $0.query("SELECT inet_server_port()")[0].int(0) }
            try await pool.withConnection { connection in
                try connection.query("CREATE TABLE failover_probe (id int PRIMARY KEY)")
                try connection.transaction { try $0.query("INSERT INTO failover_probe SELECT generate_series(1, 100)") }
            }
            try await cluster.run(["kill", "postgres-primary"])
            // Until a failover manager promotes the standby there is no primary: statements
            // fail (a request would get 503), nothing waits forever.
            await #expect(throws: PostgresError.self) {
                try await pool.withConnection { try $0.query("SELECT 1") }
            }
            #expect(await lock.isHeld() == false, "the leader knows it may no longer lead")
            try await cluster.run(["promote"])

            var newPort: Int?
            #expect(
                try await eventually(within: 20, every: .milliseconds(200)) {
                    newPort = try? await pool.withConnection { try $0.query("SELECT inet_server_port()")[0].int(0) }
                    return newPort != nil
                })
            #expect(newPort != primaryPort)
            // Committed with synchronous replication: all there on the new primary, which takes writes.
            #expect(try await pool.withConnection { try $0.query("SELECT count(*) FROM failover_probe")[0].int(0) } == 100)
            try await pool.withConnection { try $0.query("INSERT INTO failover_probe VALUES (101)") }

            var secondTerm: Int?
            #expect(
                try await eventually(within: 20, every: .milliseconds(200)) {
                    secondTerm = try? await lock.tryAcquire()
                    return secondTerm != nil
                })
            #expect(secondTerm == firstTerm + 1, "the fencing term survived the promotion and moved on")
            await pool.shutdown()
        }
    }
}
