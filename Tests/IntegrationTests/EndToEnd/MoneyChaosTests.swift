import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Testing

/// Money is never lost (issue 15), through every real process: a draw and an open-run against a
/// provider that declines, errors, times out after charging, answers pending (a quarter of those
/// succeeding only after the payment window) and repeats callbacks, while workers are SIGKILLed
/// at random. At the end every customer's money at the provider (charged − refunded) equals the
/// locked price of the units they hold as paid orders; nothing is charged or refunded twice;
/// every drop is settled; `audit` passes.
///
/// At the scale: a draw of 1,000 entrants for 100 units with a waitlist of 100, and an
/// open-run of 2,000 buyers for 100 units.
@Suite(.serialized) struct MoneyChaosTests {
    @Test func moneyFollowsUnitsThroughDeclinesTimeoutsLateSuccessesAndKilledWorkers() async throws {
        try await withShopStack(settings: [
            "payments.window_s": "6", "payments.callback_grace_s": "0", "payments.timeout_ms": "1000",
        ]) { stack in
            try await stack.startServe()
            try await stack.startMockPayments([
                "--decline-rate", "0.1", "--error-rate", "0.1", "--timeout-rate", "0.05", "--timeout-hold-ms", "2500",
                "--pending-rate", "0.2", "--pending-success-rate", "0.6", "--callback-delay-ms", "300",
                "--late-success-rate", "0.25", "--late-callback-delay-ms", "9000", "--duplicate-callback-rate", "0.3",
            ])
            try stack.startScheduler()
            let firstWorkers = [try stack.startWorker(), try stack.startWorker()]

            let draw = try await DrawEndToEndTests.createDrop(stack, kind: .draw, stock: 100, waitlistDepth: 100)
            let entrants = try await stack.users(1000)
            try await DrawEndToEndTests.enter(stack, dropID: draw, customers: entrants)
            let openRun = try await DropFixtures.insertDrop(stack.pool, kind: .openRun, stock: 100, closesIn: 3600)
            try await DrawEndToEndTests.closeNow(stack, [draw])

            // Workers die at random while the draw's orders are charged and the open-run sells.
            let chaos = Task {
                var workers = firstWorkers
                var generator = SystemRandomNumberGenerator()
                var killed = 0
                for _ in 0..<12 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 500...1500, using: &generator)))
                    let victim = Int.random(in: 0..<workers.count, using: &generator)
                    workers[victim].kill()
                    killed += 1
                    workers[victim] = try stack.startWorker()
                }
                return killed
            }
            let buyers = try await stack.users(2000)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for buyer in buyers {
                    group.addTask { try await stack.call("POST", "/v1/drops/\(openRun)/purchase", token: buyer.token).status }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }
            // Declined units go back on sale during the rush, so a few more may sell.
            #expect(statuses[201, default: 0] >= 100, "\(statuses)")
            #expect(statuses.keys.allSatisfy { [201, 409].contains($0) }, "\(statuses)")
            // Released units of the open-run go back on sale; a declined buyer may buy again.
            for _ in 0..<3 {
                try await Task.sleep(for: .seconds(3))
                for buyer in buyers.prefix(200) {
                    _ = try await stack.call("POST", "/v1/drops/\(openRun)/purchase", token: buyer.token)
                }
            }
            #expect(try await chaos.value == 12)
            try await DrawEndToEndTests.closeNow(stack, [openRun])

            try await eventually(timeout: 180, "both drops settled, every refund done, money follows units") {
                for drop in [draw, openRun] {
                    guard try await DrawEndToEndTests.dropRow(stack.pool, drop).status == "settled" else { return false }
                }
                // Every pending charge's callback has gone out (the late ones last)...
                let provider = try await stack.mockStats()
                guard let pending = provider["pending"] as? Int, provider["pending_resolved"] as? Int == pending else { return false }
                // ...and every refund it caused is done.
                let pendingRefunds = try await stack.pool.query("SELECT count(*) FROM refunds WHERE status = 'pending'")[0].int(0)
                guard pendingRefunds == 0 else { return false }
                return try await Self.moneyMismatches(stack).isEmpty
            }
            #expect(try await Self.moneyMismatches(stack) == [:])
            try await DrawEndToEndTests.expectSettled(stack.pool, draw)

            let stats = try await stack.mockStats()
            #expect(stats["double_charged_keys"] as? Int == 0)
            #expect(stats["double_charged_orders"] as? Int == 0)
            #expect(stats["double_refunds"] as? Int == 0)
            #expect(stats["refunds_refused"] as? Int == 0)
            // The chaos happened: declines, timeouts, late successes, refunds.
            #expect((stats["declined"] as? Int ?? 0) > 0 && (stats["timeouts"] as? Int ?? 0) > 0, "\(stats)")
            let late = try await stack.pool.query(
                "SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM refunds WHERE reason = 'late_success'")[0]
            #expect(try late.int(0) > 0 && late.int(0) == late.int(1), "late successes refunded")
            #expect(try late.int(0) <= stats["refunds"] as? Int ?? -1)

            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
        }
    }

    /// Customers whose money at the provider differs from the price of their paid units:
    /// customer → (kept by the provider, price of paid units).
    static func moneyMismatches(_ stack: ShopStack) async throws -> [Int: [Int]] {
        let response = try await stack.http.execute(HTTPRequest(url: stack.mockURL + "/v1/ledger"))
        let kept = ((try JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Int] ?? [:])
            .reduce(into: [Int: Int]()) { $0[Int($1.key) ?? -1] = $1.value }
        var owned: [Int: Int] = [:]
        for row in try await stack.pool.query("SELECT user_id, sum(amount_cents) FROM orders WHERE status = 'paid' GROUP BY user_id") {
            owned[try row.int(0)] = try row.int(1)
        }
        var mismatches: [Int: [Int]] = [:]
        for customer in Set(kept.keys).union(owned.keys) where kept[customer, default: 0] != owned[customer, default: 0] {
            mismatches[customer] = [kept[customer, default: 0], owned[customer, default: 0]]
        }
        return mismatches
    }
}
