import Foundation
import Postgres
import Testing

/// `fastest-shop demo`, the main job, end to end: everything in one process, driven through the
/// public API. Its report states measured facts only, so the test holds each sentence about
/// payments against what PostgreSQL says, once with a provider that declines nothing and once
/// with one that declines most charges.
@Suite struct DemoTests {
    private struct Run {
        let status: Int32
        let output: String
        let pool: PostgresPool
    }

    private func runDemo(_ flags: [String], _ body: (Run) async throws -> Void) async throws {
        try await TestSlots.heavy.withSlot {
            try await withTestDatabase(poolSize: 1) { pool, database in
                try await withRedisNamespace { _, prefix in
                    var environment = try await TestServices.shared.connectionSettings()
                    environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database
                    environment["FASTEST_SHOP_REDIS_KEY_PREFIX"] = prefix
                    let demo = try ShopProcess(["demo", "--buyers", "300", "--entrants", "60"] + flags, environment: environment)
                    let status = try await demo.waitForExit(timeout: 300)
                    try await body(Run(status: status, output: demo.output, pool: pool))
                }
            }
        }
    }

    /// Order counts by status for the demo's drop of `kind`.
    private func orders(_ pool: PostgresPool, kind: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await pool.query(
            """
            SELECT o.status, count(*) FROM orders o JOIN drops d ON d.id = o.drop_id WHERE d.kind = $1 GROUP BY o.status
            """, [.text(kind)])
        {
            counts[try row.string(0)] = try row.int(1)
        }
        return counts
    }

    @Test func withNothingDeclinedTheReportSaysNobodyWasPromotedAndTheDatabaseAgrees() async throws {
        try await runDemo(["--decline-rate", "0", "--error-rate", "0", "--pending-rate", "0"]) { run in
            #expect(run.status == 0, "\(run.output.suffix(3000))")
            #expect(!run.output.contains("FAILED"), "\(run.output)")
            let openRun = try await orders(run.pool, kind: "open_run")
            let draw = try await orders(run.pool, kind: "draw")
            #expect(openRun == ["paid": 10], "\(openRun)")
            #expect(draw == ["paid": 5], "\(draw)")
            #expect(run.output.contains("payments settled: 10 paid, 0 failed, 0 expired"), "\(run.output)")
            #expect(run.output.contains("no payment failed or expired: every order was paid"), "\(run.output)")
            #expect(run.output.contains("no payment failed or expired, so nobody on the waitlist was offered a unit"), "\(run.output)")
            #expect(!run.output.contains("went to the first"), "\(run.output)")
            // Every buyer answered; the refusals are counted where they were decided.
            let rush = try #require(run.output.firstMatch(of: /(\d+) orders \(201\), (\d+) sold-out \(409\)/), "\(run.output)")
            #expect(Int(rush.1)! == 10 && Int(rush.2)! == 290, "\(run.output)")
            let decided = try #require(
                run.output.firstMatch(
                    of: /(\d+) purchases were answered by the Redis admission gate alone; (\d+) were decided in PostgreSQL/), "\(run.output)")
            #expect(Int(decided.1)! == 290 && Int(decided.2)! == 10, "\(run.output)")
            #expect(run.output.contains("all invariants hold"), "\(run.output)")
        }
    }

    @Test func withMostChargesDeclinedTheReportCountsDeclinesAndPromotionsAsTheDatabaseDoes() async throws {
        // 90 % declined: the chance that none of the draw's 5 winners is declined (and the
        // waitlist is never reached) is 1 in 100,000; at 60 % it was 1 in 100.
        try await runDemo(["--decline-rate", "0.9", "--error-rate", "0", "--pending-rate", "0"]) { run in
            #expect(run.status == 0, "\(run.output.suffix(3000))")
            #expect(!run.output.contains("FAILED"), "\(run.output)")
            let openRun = try await orders(run.pool, kind: "open_run")
            let openRunReleased = (openRun["failed"] ?? 0) + (openRun["expired"] ?? 0)
            #expect(run.output.contains("payments settled: "), "\(run.output)")
            // The draw: failed payments and the waitlist positions that got their units.
            let rows = try await run.pool.query(
                """
                SELECT r.position, o.status FROM drop_rankings r JOIN orders o ON o.id = r.order_id
                JOIN drops d ON d.id = r.drop_id WHERE d.kind = 'draw' ORDER BY r.position
                """)
            let offered = try rows.map { (position: try $0.int(0), status: try $0.string(1)) }
            let released = offered.filter { $0.status == "failed" || $0.status == "expired" }.count
            let promoted = offered.filter { $0.position >= 5 }.map(\.position)
            try #require(released > 0, "with 90% declined some draw payment fails: \(offered)")
            #expect(
                run.output.contains(
                    "\(released) payments failed or expired; their units went to the first \(promoted.count) on the waitlist in ranking order "
                        + "(positions \(promoted.map(String.init).joined(separator: ", ")))"), "\(run.output)")
            #expect(!run.output.contains("nobody on the waitlist"), "\(run.output)")
            // The open-run: orders beyond the stock are explained by released units, in numbers.
            let created = try #require(run.output.firstMatch(of: /(\d+) orders \(201\)/), "\(run.output)")
            if Int(created.1)! > 10 {
                #expect(run.output.contains("payments failed or expired during the rush and their units went back on sale"), "\(run.output)")
            }
            #expect(openRunReleased > 0 || !run.output.contains("failed or expired during the rush"), "\(run.output)")
            #expect(run.output.contains("all invariants hold"), "\(run.output)")
        }
    }
}
