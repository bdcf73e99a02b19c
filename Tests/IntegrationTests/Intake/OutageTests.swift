import CurlHTTP
import Foundation
import Intake
import OpenRunGate
import LocalServices
import Postgres
import Redis
import Settings
import ShopDomain
import Storage
import Testing

/// PostgreSQL goes away and comes back under a running server. The test has services of its
/// own, so stopping them disturbs no other test.
@Suite struct OutageTests {
    /// Runs `body` with settings for services of the test's own (a migrated scratch instance).
    func withOwnServices(_ body: (LocalServices, ShopSettings) async throws -> Void) async throws {
        try await withScratchServices { scratch in
            let migrationPool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "outage-migrate")
            try await Migrator().migrate(migrationPool)
            await migrationPool.shutdown()
            let settings = try await IntakeTestServer.settings(
                postgres: scratch.postgresConfiguration, redis: scratch.redisConfiguration, keyPrefix: "outage:", overrides: [:])
            try await body(scratch.services, settings)
        }
    }

    @Test func anAdmittedPurchaseThatPostgresCannotConfirmGetsItsUnitBackAnd503() async throws {
        try await withOwnServices { services, settings in
            try await runIntakeServer(settings: settings) { server in
                let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
                let customers = try await server.makeUsers(2)
                // The first purchase loads the gate from PostgreSQL.
                #expect(try await server.call("POST", "/v1/drops/\(drop)/purchase", token: customers[0].token).status == 201)
                #expect(try await server.service.gate.state(dropID: drop)?.remaining == 4)

                try services.stopOnly(.postgres)
                let refused = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: customers[1].token)
                #expect(refused.status == 503)
                #expect(refused.problemSlug == "unavailable")
                let gate = try await server.service.gate.state(dropID: drop)
                #expect(gate?.remaining == 4 && gate?.pending == 0, "the admission was compensated")

                try services.start()
                var status = 0
                for _ in 0..<100 where status != 201 {
                    status = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: customers[1].token).status
                    if status != 201 { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(status == 201, "the buyer may retry and buy")
                #expect(try await server.service.gate.state(dropID: drop)?.remaining == 3)
            }
        }
    }

    @Test func theServerAnswers503WhilePostgresIsDownAndRecoversByItself() async throws {
        try await withOwnServices { services, settings in
            try await runIntakeServer(settings: settings) { server in
                let drop = try await server.makeDrop()
                let customers = try await server.makeUsers(2)
                #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[0].token).status == 201)

                try services.stopOnly(.postgres)
                let entry = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[1].token)
                #expect(entry.status == 503)
                #expect(entry.problemSlug == "unavailable")
                #expect(entry.header("Content-Type") == "application/problem+json")
                #expect(try await server.call("GET", "/v1/drops/\(drop.id)").status == 503)
                #expect(try await server.call("GET", "/readyz").status == 503)
                #expect(try await server.call("GET", "/healthz").status == 200)

                try services.start()
                var status = 0
                for _ in 0..<100 where status != 201 {
                    status = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[1].token).status
                    if status != 201 { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(status == 201)
                #expect(try await server.call("GET", "/readyz").status == 200)
                #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["entry_count"] as? Int == 2)
            }
        }
    }
}
