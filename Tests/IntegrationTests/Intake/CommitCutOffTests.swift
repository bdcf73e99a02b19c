import CurlHTTP
import Foundation
import Intake
import OpenRunGate
import Postgres
import Scheduler
import ShopDomain
import Testing

extension OutageTests {
    /// A failover ends the old primary's sessions while COMMITs wait for the synchronous standby
    /// (here: a standby that never answers, then `pg_terminate_backend`, what the old primary's
    /// shutdown does to each backend). Such a COMMIT has already committed locally; the server
    /// says so only in a warning ("…already committed locally, but might not have been replicated
    /// to the standby") before ending the session, and libpq reports the connection closed. The
    /// buyer gets a 503 and the admission is kept, exactly as for a COMMIT whose answer never
    /// came; reconcile settles it from the order, which is whole.
    @Test func aPurchaseWhoseCommitIsCutOffByAFailoverKeepsItsAdmission() async throws {
        try await withOwnScratchServices(["postgres.reply_timeout_ms": "60000"]) { scratch, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
                let customers = try await server.makeUsers(3)
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[0].token).status == 201)

                let admin = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "cutoff-admin")
                defer { Task { await admin.shutdown() } }
                // The purchase's COMMIT then waits for the standby, as the probe's did.
                #expect(try await Self.makeCommitsWaitForAMissingStandby(admin, scratch.postgresConfiguration))

                let purchase = Task { try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token) }
                let waiting = "FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND application_name <> 'commit-probe'"
                #expect(
                    try await eventually(within: 30) {
                        try await admin.query("SELECT count(*) \(waiting)")[0].int(0) == 1
                    }, "the purchase's COMMIT waits for the standby")
                // The failover: every backend waiting for the standby is ended.
                try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")
                let cutOff = try await purchase.value
                #expect(cutOff.status == 503 && cutOff.problemSlug == "unavailable", "\(cutOff.status) \(cutOff.problemSlug ?? "")")
                #expect(try await server.service.gate.state(dropID: openRun)! == (true, 3, 1), "the admission was kept")

                try await admin.query("ALTER SYSTEM RESET synchronous_standby_names")
                try await admin.query("SELECT pg_reload_conf()")
                // Committed locally before the session ended: the order is there, whole.
                #expect(try await admin.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(openRun)])[0].int(0) == 2)
                try await OpenRunGateHooks(pool: server.pool, gate: server.service.gate).reconcile()
                #expect(try await server.service.gate.state(dropID: openRun)! == (true, 3, 0))
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token).problemSlug == "already-purchased")
                #expect(try await server.callUntilCreated("POST", "/v1/drops/\(openRun)/purchase", token: customers[2].token) == 201)
            }
        }
    }
}
