import Foundation
import Postgres
import Testing

/// `fastest-shop demo`, the main job, end to end: everything in one process, driven through the
/// public API, with the invariants checked at the end.
@Suite struct DemoTests {
    @Test func theDemoShowsAnOpenRunAndAVerifiedDrawAndEndsWithEveryInvariantHolding() async throws {
        try await TestSlots.heavy.withSlot { try await withTestDatabase(poolSize: 1) { _, database in
            try await withRedisNamespace { _, prefix in
                var environment = try await TestServices.shared.connectionSettings()
                environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database
                environment["FASTEST_SHOP_REDIS_KEY_PREFIX"] = prefix
                let demo = try ShopProcess(["demo", "--buyers", "400", "--entrants", "60"], environment: environment)
                let status = try await demo.waitForExit(timeout: 240)
                let output = demo.output
                #expect(status == 0, "\(output.suffix(3000))")
                // Every buyer is answered; at least the 10 units sell (more orders when declined
                // payments put units back on sale while the rush is still going).
                let rush = try #require(output.firstMatch(of: /(\d+) orders \(201\), (\d+) sold-out \(409\)/), "\(output)")
                let (orders, soldOut) = (Int(rush.1)!, Int(rush.2)!)
                #expect(orders >= 10 && orders + soldOut == 400, "\(output)")
                #expect(output.contains("never oversold"))
                #expect(output.contains("recomputed from the published audit bundle: identical"))
                #expect(output.contains("all invariants hold"))
            }
        } }
    }
}
