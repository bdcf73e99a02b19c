import CurlHTTP
import Foundation
import Postgres
import Redis
import ShopDomain
import Testing

/// Draws and raffles through every real process: entries over HTTP, the scheduler closing the
/// drop, workers drawing and charging through `mock-payments`, callbacks back to `serve`.
@Suite(.serialized) struct DrawEndToEndTests {
    /// An RFC 3339 time `seconds` from now.
    static func time(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date().addingTimeInterval(seconds))
    }

    /// Creates a product and a drop through the API (as an operator); returns the drop id. Its
    /// window is long; ``closeNow(_:_:)`` ends it once the test's entries are in (a window of a
    /// few seconds could end before they are, on a machine the whole suite shares).
    static func createDrop(_ stack: ShopStack, kind: DropKind, stock: Int, waitlistDepth: Int, maxTickets: Int = 1, closesIn: Double = 3600)
        async throws -> Int
    {
        let operatorToken = try await stack.users(1, role: .operator)[0].token
        let product = try await stack.call(
            "POST", "/v1/products", token: operatorToken,
            body: #"{"name":"Runner","price_cents":15000,"currency":"EUR"}"#)
        #expect(product.status == 201, "\(product.bodyText)")
        let productID = try #require(product.jsonObject["id"] as? Int)
        var body =
            #"{"product_id":\#(productID),"kind":"\#(kind.rawValue)","stock":\#(stock),"waitlist_depth":\#(waitlistDepth),"opens_at":"\#(time(-1))","closes_at":"\#(time(closesIn))""#
        if kind == .raffle { body += #","max_tickets":\#(maxTickets)"# }
        body += "}"
        let drop = try await stack.call("POST", "/v1/drops", token: operatorToken, body: body)
        #expect(drop.status == 201, "\(drop.bodyText)")
        #expect((drop.jsonObject["commitment"] as? String)?.count == 64)
        return try #require(drop.jsonObject["id"] as? Int)
    }

    /// Ends the drops' entry window now; the scheduler then closes them as it would on time.
    static func closeNow(_ stack: ShopStack, _ drops: [Int]) async throws {
        try await stack.pool.query("UPDATE drops SET closes_at = now() WHERE id = ANY($1::bigint[])", [.intArray(drops)])
    }

    static func enter(_ stack: ShopStack, dropID: Int, customers: [(id: Int, token: String)], tickets: (Int) -> Int = { _ in 1 }) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, customer) in customers.enumerated() {
                let ticketCount = tickets(index)
                group.addTask {
                    try await stack.call("POST", "/v1/drops/\(dropID)/entries", token: customer.token, body: #"{"tickets":\#(ticketCount)}"#).status
                }
            }
            for try await status in group { #expect(status == 201) }
        }
    }

    static func dropRow(_ pool: PostgresPool, _ id: Int) async throws -> (status: String, stock: Int, available: Int, held: Int, sold: Int) {
        let row = try await pool.query("SELECT status, stock, available, held, sold FROM drops WHERE id = $1", [.int(id)])[0]
        return (try row.string(0), try row.int(1), try row.int(2), try row.int(3), try row.int(4))
    }

    /// Every unit is paid, or provably unclaimable: nothing pending and nobody left to offer it to.
    static func expectSettled(_ pool: PostgresPool, _ id: Int) async throws {
        let drop = try await dropRow(pool, id)
        #expect(drop.status == "settled")
        #expect(drop.held == 0)
        let unoffered = try await pool.query(
            "SELECT count(*) FROM drop_rankings WHERE drop_id = $1 AND order_id IS NULL", [.int(id)])[0].int(0)
        #expect(drop.sold == drop.stock || unoffered == 0, "sold \(drop.sold) of \(drop.stock), \(unoffered) never offered")
    }

    /// Fetches the audit bundle over HTTP and checks it with `fastest-shop verify`.
    static func verify(_ stack: ShopStack, _ id: Int) async throws {
        let audit = try await stack.call("GET", "/v1/drops/\(id)/audit")
        #expect(audit.status == 200)
        let file = ShopProcess.repositoryRoot + "/.fastest/test-logs/audit-\(id)-\(UUID().uuidString.prefix(6)).json"
        try Data(audit.body).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let verify = try await stack.command(["verify", file])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test func aDrawAndARaffleSettleThroughDeclinesErrorsAndPendingPayments() async throws {
        try await withShopStack(settings: ["payments.window_s": "20"]) { stack in
            try await stack.startServe()
            try await stack.startMockPayments([
                // 40 % declined: with 18 winners, the chance that no unit is released (and the
                // waitlist never tested) is about 1 in 20,000; at 20 % it was about 1 in 150.
                "--decline-rate", "0.4", "--error-rate", "0.1", "--pending-rate", "0.1",
                "--pending-success-rate", "0.5", "--callback-delay-ms", "200", "--duplicate-callback-rate", "0.5",
            ])
            try stack.startScheduler()
            try stack.startWorker()
            try stack.startWorker()

            let draw = try await Self.createDrop(stack, kind: .draw, stock: 10, waitlistDepth: 30)
            let raffle = try await Self.createDrop(stack, kind: .raffle, stock: 8, waitlistDepth: 30, maxTickets: 5)
            let customers = try await stack.users(60)
            try await Self.enter(stack, dropID: draw, customers: customers)
            try await Self.enter(stack, dropID: raffle, customers: customers) { $0 % 5 + 1 }
            // A second entry is the same entry.
            let repeated = try await stack.call("POST", "/v1/drops/\(draw)/entries", token: customers[0].token, body: "{}")
            #expect(repeated.status == 200)
            try await Self.closeNow(stack, [draw, raffle])

            for drop in [draw, raffle] {
                try await eventually(timeout: 90, "drop \(drop) settled") {
                    try await Self.dropRow(stack.pool, drop).status == "settled"
                }
                try await Self.expectSettled(stack.pool, drop)
                try await Self.verify(stack, drop)
            }
            // Customers learn where they stand.
            let standing = try await stack.call("GET", "/v1/drops/\(draw)/entries/me", token: customers[0].token)
            #expect(["won", "waitlisted", "lost"].contains(standing.jsonObject["status"] as? String ?? ""), "\(standing.bodyText)")

            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
            let stats = try await stack.mockStats()
            #expect(stats["double_charged_keys"] as? Int == 0)
            #expect(stats["double_charged_orders"] as? Int == 0)
            // Every paid order was charged exactly once at the provider.
            let paid = try await stack.pool.query("SELECT count(*) FROM orders WHERE status = 'paid'")[0].int(0)
            #expect(paid > 0)
            // Every answer the worker logged carries how long the provider took (the console's p50/p99).
            let timed = try await stack.pool.query("SELECT count(*), count(latency_ms) FROM charge_attempts")[0]
            #expect(try timed.int(0) > 0 && timed.int(0) == timed.int(1))
            let failed = try await stack.pool.query("SELECT count(*) FROM orders WHERE status IN ('failed', 'expired')")[0].int(0)
            #expect(failed > 0, "with 40% declines some units were released and re-offered")
        }
    }

    @Test func workersKilledMidCloseAndMidChargeLoseNothingAndChargeNobodyTwice() async throws {
        try await withShopStack(settings: ["payments.window_s": "60"]) { stack in
            try await stack.startServe()
            try await stack.startMockPayments([])
            try stack.startScheduler()
            let draw = try await Self.createDrop(stack, kind: .draw, stock: 5, waitlistDepth: 5)
            let customers = try await stack.users(30)
            try await Self.enter(stack, dropID: draw, customers: customers)
            try await Self.closeNow(stack, [draw])

            // Each worker dies at a worse moment than the one before; the next one takes over.
            for crashPoint in ["drop.close.after-draw", "drop.close.after-commit", "order.charge.after-provider"] {
                let worker = try stack.startWorker(crashAt: crashPoint)
                try await eventually(timeout: 60, "the worker reached \(crashPoint)") {
                    worker.output.contains("crash point \(crashPoint) reached")
                }
                let status = try await worker.waitForExit(timeout: 10)
                #expect(status == 128 + SIGKILL, "killed, not exited (status \(status))")
            }
            try stack.startWorker()
            try await eventually(timeout: 60, "the draw settled") {
                try await Self.dropRow(stack.pool, draw).status == "settled"
            }
            try await Self.expectSettled(stack.pool, draw)
            let orders = try await stack.pool.query("SELECT count(*), count(DISTINCT user_id) FROM orders WHERE drop_id = $1", [.int(draw)])
            #expect(try orders[0].int(0) == 5, "one set of orders, not two")
            #expect(try orders[0].int(1) == 5)
            #expect(try await Self.dropRow(stack.pool, draw).sold == 5)
            // The ranking stored is the one anyone recomputes from the published bundle.
            try await Self.verify(stack, draw)
            let stats = try await stack.mockStats()
            #expect(stats["charges_succeeded"] as? Int == 5)
            #expect(stats["double_charged_keys"] as? Int == 0)
            #expect(stats["double_charged_orders"] as? Int == 0)
            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
        }
    }
}
