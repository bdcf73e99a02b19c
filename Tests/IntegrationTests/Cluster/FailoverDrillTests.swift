import Foundation
import Testing

/// `bench failover` at a small scale, as CI runs it: a whole cluster (scripts/cluster up) loses a
/// Redis master, the PostgreSQL primary, a serve, a worker and the scheduler leader while a draw
/// takes entries and an open-run sells; every answer given must hold afterwards.
@Suite struct FailoverDrillTests {
    @Test func nothingAcknowledgedIsLostWhenEachComponentDiesOnce() async throws {
        try await TestSlots.heavy.withSlot {
            let drill = try ShopProcess(
                [
                    "bench", "failover", "--json", "--entrants", "300", "--buyers", "100", "--open-run-stock", "20",
                    "--draw-stock", "10", "--window-s", "25", "--concurrency", "12",
                ],
                environment: [:])
            let status = try await drill.waitForExit(timeout: 600)
            let line = try #require(drill.output.split(separator: "\n").first { $0.hasPrefix("{") }, "no JSON result: \(drill.output)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let acknowledged = try #require(result["acknowledged_entries"] as? Int)
            #expect(acknowledged > 0, "the load generator got entries through")
            #expect(result["entries_in_db"] as? Int == acknowledged, "every entry answered 201 is in PostgreSQL")
            #expect(result["orders_in_db"] as? Int == result["acknowledged_orders"] as? Int)
            #expect(result["oversold"] as? Int == 0)
            #expect(result["double_charges"] as? Int == 0)
            #expect(result["audit_ok"] as? Bool == true)
            #expect(result["drops_settled"] as? Bool == true)
            #expect(result["killed"] as? [String] == ["redis-master", "postgres-primary", "serve", "worker", "scheduler-leader"])
            #expect(result["longest_unavailable_s"] as? NSNumber != nil)
            #expect(status == 0, "\(drill.output.suffix(2000))")
        }
    }
}
