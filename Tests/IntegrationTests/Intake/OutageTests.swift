import CurlHTTP
import Foundation
import Intake
import LocalServices
import OpenRunGate
import Postgres
import Redis
import Scheduler
import Settings
import ShopDomain
import Storage
import Testing

/// PostgreSQL goes away and comes back under a running server. The test has services of its
/// own, so stopping them disturbs no other test.
@Suite struct OutageTests {
    /// Runs `body` with settings for services of the test's own (a migrated scratch instance).
    func withOwnServices(_ body: (LocalServices, ShopSettings) async throws -> Void) async throws {
        try await withOwnScratchServices { scratch, settings in try await body(scratch.services, settings) }
    }

    func withOwnScratchServices(
        _ overrides: [String: String] = [:], _ body: (ScratchServices, ShopSettings) async throws -> Void
    ) async throws {
        try await withScratchServices { scratch in
            let migrationPool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "outage-migrate")
            try await Migrator().migrate(migrationPool)
            await migrationPool.shutdown()
            let settings = try await IntakeTestServer.settings(
                postgres: scratch.postgresConfiguration, redis: scratch.redisConfiguration, keyPrefix: "outage:", overrides: overrides)
            try await body(scratch, settings)
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
                let status = try await server.callUntilCreated("POST", "/v1/drops/\(drop)/purchase", token: customers[1].token)
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
                #expect(try await server.readiness(becoming: 503) == 503)
                #expect(try await server.call("GET", "/healthz").status == 200)

                try services.start()
                let status = try await server.callUntilCreated("POST", "/v1/drops/\(drop.id)/entries", token: customers[1].token)
                #expect(status == 201)
                #expect(try await server.readiness(becoming: 200) == 200)
                #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["entry_count"] as? Int == 2)
            }
        }
    }

    /// The gate answers refusals by itself: with PostgreSQL stopped, a sold-out open-run still
    /// says `sold-out` to new buyers and `already-purchased` to its buyers, a draw `not-open`, an
    /// id that names no drop 404. Only a purchase that needs PostgreSQL gets 503.
    @Test func openRunRefusalsNeverTouchPostgres() async throws {
        try await withOwnServices { services, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 2, closesIn: nil)
                let draw = try await DropFixtures.insertDrop(server.pool, kind: .draw, stock: 2)
                let unseenDraw = try await DropFixtures.insertDrop(server.pool, kind: .draw, stock: 2)
                let unknown = 987_654
                let customers = try await server.makeUsers(3)
                func purchase(_ drop: Int, _ customer: Int) async throws -> HTTPResponse {
                    try await server.call("POST", "/v1/drops/\(drop)/purchase", token: customers[customer].token)
                }
                #expect(try await purchase(openRun, 0).status == 201)
                #expect(try await purchase(openRun, 1).status == 201)
                #expect(try await purchase(unknown, 0).status == 404)
                #expect(try await purchase(draw, 0).problemSlug == "not-open")

                try services.stopOnly(.postgres)
                // Unknown ids are remembered only for a few seconds: ask about it first.
                #expect(try await purchase(unknown, 2).status == 404)
                let soldOut = try await purchase(openRun, 2)
                #expect(soldOut.status == 409 && soldOut.problemSlug == "sold-out")
                #expect(try await purchase(openRun, 0).problemSlug == "already-purchased")
                #expect(try await purchase(draw, 2).problemSlug == "not-open")
                // A drop nobody asked about yet needs PostgreSQL to be told apart.
                #expect(try await purchase(unseenDraw, 2).status == 503)

                try services.start()
                var status = 0
                for _ in 0..<100 where status != 409 {
                    status = try await purchase(unseenDraw, 2).status
                    if status != 409 { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(status == 409)
            }
        }
    }

    /// Redis goes away under a running server: what needs it answers 503, what does not goes on
    /// (entries are PostgreSQL's alone), and service resumes by itself when Redis is back.
    @Test func theServerAnswers503WhileRedisIsDownAndRecoversByItself() async throws {
        try await withOwnServices { services, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
                let draw = try await server.makeDrop()
                let customers = try await server.makeUsers(3)
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[0].token).status == 201)

                try services.stopOnly(.redis)
                let purchase = try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token)
                #expect(purchase.status == 503)
                #expect(purchase.problemSlug == "unavailable")
                #expect(purchase.header("Content-Type") == "application/problem+json")
                #expect(purchase.header("Retry-After") != nil)
                #expect(try await server.readiness(becoming: 503) == 503)
                #expect(try await server.call("GET", "/healthz").status == 200)
                #expect(try await server.call("POST", "/v1/drops/\(draw.id)/entries", token: customers[1].token).status == 201)
                let orders = try await server.pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(openRun)])
                #expect(try orders[0].int(0) == 1, "a purchase refused with 503 left no order behind")

                try services.start()
                let status = try await server.callUntilCreated("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token)
                #expect(status == 201)
                #expect(try await server.readiness(becoming: 200) == 200)
                let figures = try await server.pool.query("SELECT available, held FROM drops WHERE id = $1", [.int(openRun)])[0]
                #expect(try figures.int(0) == 3 && figures.int(1) == 2)
            }
        }
    }

    /// A hung PostgreSQL (it accepts bytes and answers nothing) costs a request a 503 after
    /// `postgres.reply_timeout_ms`, not a wait without end; when it wakes up, service resumes.
    /// (The client below would fail the test by timing out if the server did not answer.)
    @Test func aHungPostgresGets503AndServiceResumesWhenItWakes() async throws {
        // No local cache: the read while PostgreSQL hangs must reach it, not the first read's copy.
        try await withOwnScratchServices(["postgres.reply_timeout_ms": "1000", "cache.local_entries": "0"]) { scratch, settings in
            try await runIntakeServer(settings: settings) { server in
                let drop = try await server.makeDrop()
                let customers = try await server.makeUsers(2)
                #expect(try await server.call("GET", "/v1/drops/\(drop.id)").status == 200)

                try scratch.freeze(.postgres)
                let read = try await server.call("GET", "/v1/drops/\(drop.id)")
                let entry = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[0].token)
                try scratch.thaw(.postgres)
                #expect(read.status == 503 && read.problemSlug == "unavailable")
                #expect(entry.status == 503 && entry.problemSlug == "unavailable")

                let status = try await server.callUntilCreated("POST", "/v1/drops/\(drop.id)/entries", token: customers[1].token)
                #expect(status == 201)
                // The entry answered 503 may or may not have committed (its COMMIT went unanswered);
                // asking again settles it either way, idempotently.
                let again = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[0].token)
                #expect(again.status == 201 || again.status == 200)
                #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["entry_count"] as? Int == 2)
            }
        }
    }

    /// A hung PostgreSQL accepts the TCP connection and never answers the startup; libpq's own
    /// connect timeout cannot be under 2 s. With a reply timeout set (as `serve` has), a new
    /// connection gives up when that runs out instead, and connects again once the server wakes.
    @Test func aNewConnectionToAHungPostgresGivesUpWhenTheReplyTimeoutRunsOut() async throws {
        try await withScratchServices { scratch in
            var bounded = scratch.postgresConfiguration
            bounded.replyTimeoutMilliseconds = 300
            let configuration = bounded
            try scratch.freeze(.postgres)
            var caught: PostgresError?
            do {
                _ = try await runBlocking {
                    _ = try PostgresConnection(configuration: configuration)
                    return true
                }
            } catch let error as PostgresError {
                caught = error
            }
            try scratch.thaw(.postgres)
            let error = try #require(caught, "connected to a frozen server")
            #expect(error.code == .connectionFailure)
            #expect(error.message.contains("no answer within 300 ms"), "\(error.message)")

            let answer = try await runBlocking { try PostgresConnection(configuration: configuration).query("SELECT 1")[0].int(0) }
            #expect(answer == 1)
        }
    }

    /// Makes every COMMIT on the scratch PostgreSQL wait for a synchronous standby that does not
    /// exist (as behind a stalled WAL flush, or a standby that stopped answering); true once a
    /// probe's COMMIT (application `commit-probe`) goes unanswered, i.e. once the checkpointer has
    /// read the setting.
    static func makeCommitsWaitForAMissingStandby(_ admin: PostgresPool, _ configuration: PostgresConfiguration) async throws -> Bool {
        try await admin.query("CREATE TABLE commit_probe (n int)")
        try await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        try await admin.query("SELECT pg_reload_conf()")
        var probing = configuration
        probing.replyTimeoutMilliseconds = 300
        probing.applicationName = "commit-probe"
        let probe = probing
        return try await eventually {
            do {
                _ = try await runBlocking {
                    _ = try PostgresConnection(configuration: probe).transaction { try $0.query("INSERT INTO commit_probe VALUES (1)") }
                    return true
                }
                return false
            } catch let error as PostgresError {
                return error.mayHaveCommitted
            }
        }
    }

    /// A COMMIT whose answer never comes may have committed: here PostgreSQL waits for a
    /// synchronous standby that does not exist, as it would behind a stalled WAL flush. The buyer
    /// gets a 503, but the admission is not given back: the order exists, and the gate must not
    /// sell its unit again. When PostgreSQL answers again, reconcile settles it from the order.
    @Test func aPurchaseWhoseCommitGoesUnansweredKeepsItsAdmission() async throws {
        try await withOwnScratchServices(["postgres.reply_timeout_ms": "1000"]) { scratch, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
                let customers = try await server.makeUsers(3)
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[0].token).status == 201)

                let admin = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "outage-admin")
                defer { Task { await admin.shutdown() } }
                #expect(try await Self.makeCommitsWaitForAMissingStandby(admin, scratch.postgresConfiguration))

                let unanswered = try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token)
                #expect(unanswered.status == 503 && unanswered.problemSlug == "unavailable")
                #expect(try await server.service.gate.state(dropID: openRun)! == (true, 3, 1), "the admission was kept")

                try await admin.query("ALTER SYSTEM RESET synchronous_standby_names")
                try await admin.query("SELECT pg_reload_conf()")
                #expect(
                    try await eventually {
                        try await admin.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(openRun)])[0].int(0) == 2
                    }, "the unanswered COMMIT took effect")
                try await OpenRunGateHooks(pool: server.pool, gate: server.service.gate).reconcile()
                #expect(try await server.service.gate.state(dropID: openRun)! == (true, 3, 0))
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token).problemSlug == "already-purchased")
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[2].token).status == 201)
            }
        }
    }

    /// A rush of admitted buyers while PostgreSQL hangs: their confirmation batch fails as a
    /// whole, so every buyer gets a 503 after one store timeout, not one after another (retried
    /// alone, each would wait a timeout of its own, and the last about twenty: past the
    /// client's 30 s). Every admission is given back; when PostgreSQL wakes, they buy.
    @Test func aRushWhilePostgresHangsGets503sTogetherAndLosesNoUnit() async throws {
        try await withOwnScratchServices(["postgres.reply_timeout_ms": "1000"]) { scratch, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 30, closesIn: nil)
                let customers = try await server.makeUsers(21)
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[0].token).status == 201)

                try scratch.freeze(.postgres)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                    for customer in customers.dropFirst() {
                        group.addTask { try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customer.token) }
                    }
                    return try await group.reduce(into: [String]()) { $0.append("\($1.status) \($1.problemSlug ?? "")") }
                }
                try scratch.thaw(.postgres)
                #expect(statuses == Array(repeating: "503 unavailable", count: 20))
                let gate = try await server.service.gate.state(dropID: openRun)
                #expect(gate?.remaining == 29 && gate?.pending == 0, "every admission was given back")

                for customer in customers.dropFirst() {
                    let status = try await server.callUntilCreated("POST", "/v1/drops/\(openRun)/purchase", token: customer.token)
                    #expect(status == 201)
                }
                let figures = try await server.pool.query("SELECT available, held FROM drops WHERE id = $1", [.int(openRun)])[0]
                #expect(try figures.int(0) == 9 && figures.int(1) == 21)
            }
        }
    }

    /// A hung Redis costs a purchase a 503 after `redis.command_timeout_ms`, and nothing is sold;
    /// when it wakes up, purchases go on.
    @Test func aHungRedisGets503AndServiceResumesWhenItWakes() async throws {
        try await withOwnScratchServices(["redis.command_timeout_ms": "1000"]) { scratch, settings in
            try await runIntakeServer(settings: settings) { server in
                let openRun = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
                let customers = try await server.makeUsers(2)
                #expect(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[0].token).status == 201)

                try scratch.freeze(.redis)
                let purchase = try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token)
                try scratch.thaw(.redis)
                #expect(purchase.status == 503 && purchase.problemSlug == "unavailable")

                let status = try await server.callUntilCreated("POST", "/v1/drops/\(openRun)/purchase", token: customers[1].token)
                #expect(status == 201)
                let orders = try await server.pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(openRun)])
                #expect(try orders[0].int(0) == 2)
            }
        }
    }
}
