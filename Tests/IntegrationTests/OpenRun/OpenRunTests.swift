import CurlHTTP
import Foundation
import Intake
import LocalServices
import OpenRunGate
import Postgres
import Redis
import ShopDomain
import Storage
import Testing

/// Open-run purchases: first come, first served, never oversold, never sold twice to one buyer.
@Suite struct OpenRunTests {
    /// Sends one purchase per token, all at once through one curl-multi client (at most
    /// `connections` connections); returns the statuses and problem slugs in request order.
    static func rush(
        baseURL: String, dropID: Int, tokens: [String], connections: Int = 500
    ) async throws -> [(status: Int, slug: String?)] {
        let http = CurlHTTPClient(name: "rush", maxConnectionsPerHost: connections, maxIdleConnections: connections)
        defer { http.shutdown() }
        return try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask {
                    let response = try await http.execute(
                        HTTPRequest(
                            method: "POST", url: "\(baseURL)/v1/drops/\(dropID)/purchase",
                            headers: [("Authorization", "Bearer \(token)")], timeoutMilliseconds: 120_000))
                    let type = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["type"] as? String
                    return (index, response.status, type?.components(separatedBy: ":").last)
                }
            }
            var results = [(status: Int, slug: String?)](repeating: (0, nil), count: tokens.count)
            for try await (index, status, slug) in group { results[index] = (status, slug) }
            return results
        }
    }

    static func expectNoViolations(_ pool: PostgresPool) async throws {
        let report = try await pool.withConnection { try InvariantAudit.run($0) }
        #expect(report.violations.isEmpty, "\(report.violations)")
    }

    @Test func tenThousandBuyersForTenUnitsGetTenOrdersAndNineThousandNineHundredNinetySoldOuts() async throws {
        try await TestSlots.heavy.withSlot {
            try await withIntakeServer(["limits.ip_per_s": "1000000", "limits.ip_burst": "1000000"]) { server in
                let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 10, closesIn: nil)
                let buyers = try await server.makeUsers(10_000)
                let results = try await Self.rush(baseURL: server.baseURL, dropID: drop, tokens: buyers.map(\.token))
                #expect(results.filter { $0.status == 201 }.count == 10)
                #expect(results.filter { $0.status == 409 && $0.slug == "sold-out" }.count == 9_990)
                #expect(results.allSatisfy { $0.status == 201 || $0.status == 409 }, "every request answered: \(Set(results.map(\.status)))")
                let orders = try await server.pool.query(
                    "SELECT count(*), count(DISTINCT user_id) FROM orders WHERE drop_id = $1", [.int(drop)])[0]
                #expect(try orders.int(0) == 10 && orders.int(1) == 10)
                let stock = try await server.pool.query("SELECT available, held, sold FROM drops WHERE id = $1", [.int(drop)])[0]
                #expect(try stock.int(0) == 0 && stock.int(1) == 10 && stock.int(2) == 0)
                // Nobody buys twice: a winner trying again is told so without a second order.
                let winner = buyers[try #require(results.firstIndex { $0.status == 201 })]
                let again = try await Self.rush(baseURL: server.baseURL, dropID: drop, tokens: [winner.token])
                #expect(again[0].status == 409 && again[0].slug == "already-purchased")
                // The gate was not loaded when the rush began: ten thousand buyers asked for it at
                // once, and PostgreSQL was asked once.
                #expect(try await server.metric("intake_gate_loads_total") == 1)
                try await Self.expectNoViolations(server.pool)
            }
        }
    }

    /// Admitted buyers are confirmed in batches: one `FOR UPDATE` on the stock row serves many.
    @Test func admittedBuyersAreConfirmedManyPerTransaction() async throws {
        try await TestSlots.heavy.withSlot {
            try await withIntakeServer(["limits.ip_per_s": "1000000", "limits.ip_burst": "1000000"]) { server in
                let stock = 150
                let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: stock, closesIn: nil)
                let buyers = try await server.makeUsers(600)
                let results = try await Self.rush(baseURL: server.baseURL, dropID: drop, tokens: buyers.map(\.token))
                #expect(results.filter { $0.status == 201 }.count == stock)
                #expect(results.filter { $0.status == 409 && $0.slug == "sold-out" }.count == 600 - stock)
                // Every admitted buyer went through a confirmation batch, and batches held many.
                #expect(try await server.metric("intake_purchase_batch_size_sum") == Double(stock))
                #expect(try await server.metric("intake_purchase_batch_size_count") < Double(stock))
                try await Self.expectNoViolations(server.pool)
            }
        }
    }

    /// First come, first served: buyers who ask one after another are served in that order.
    @Test func buyersAreServedInArrivalOrder() async throws {
        try await withIntakeServer { server in
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 3, closesIn: nil)
            let buyers = try await server.makeUsers(6)
            var answers: [String] = []
            for buyer in buyers {
                let response = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
                answers.append(response.status == 201 ? "order" : response.problemSlug ?? "\(response.status)")
                if response.status == 201 {
                    #expect(response.json["status"] as? String == "pending_payment")
                    #expect(response.json["drop_id"] as? Int == drop)
                }
            }
            #expect(answers == ["order", "order", "order", "sold-out", "sold-out", "sold-out"])
            let owners = try await server.pool.query(
                "SELECT user_id FROM orders WHERE drop_id = $1 ORDER BY id", [.int(drop)]
            ).map { try $0.int(0) }
            #expect(owners == buyers.prefix(3).map(\.id))
        }
    }

    /// One customer cannot flood the purchase route: past the burst, 429 with Retry-After.
    @Test func purchasesAreRateLimitedPerCustomer() async throws {
        try await withIntakeServer(["limits.customer_per_s": "0.1", "limits.customer_burst": "3"]) { server in
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
            let greedy = try await server.makeUser()
            let other = try await server.makeUser()
            #expect(try await server.call("POST", "/v1/drops/\(drop)/purchase", token: greedy.token).status == 201)
            for _ in 0..<2 {
                #expect(try await server.call("POST", "/v1/drops/\(drop)/purchase", token: greedy.token).problemSlug == "already-purchased")
            }
            let limited = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: greedy.token)
            #expect(limited.status == 429)
            #expect(limited.problemSlug == "rate-limited")
            let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 10)
            #expect(try await server.call("POST", "/v1/drops/\(drop)/purchase", token: other.token).status == 201)
        }
    }

    @Test func refusalsAnswerForDropsThatAreNotOpenRunsOrNotOpen() async throws {
        try await withIntakeServer(["limits.ip_per_s": "1000000", "limits.ip_burst": "1000000"]) { server in
            let draw = try await DropFixtures.insertDrop(server.pool, kind: .draw, stock: 3)
            let scheduled = try await DropFixtures.insertDrop(server.pool, kind: .openRun, status: .scheduled, stock: 3, opensIn: 3600, closesIn: nil)
            let buyer = try await server.makeUser()
            #expect(try await Self.rush(baseURL: server.baseURL, dropID: draw, tokens: [buyer.token])[0].slug == "not-open")
            #expect(try await Self.rush(baseURL: server.baseURL, dropID: scheduled, tokens: [buyer.token])[0].slug == "not-open")
            #expect(try await Self.rush(baseURL: server.baseURL, dropID: 424_242, tokens: [buyer.token])[0].status == 404)
            let operatorUser = try await server.makeUser(role: .operator)
            #expect(try await Self.rush(baseURL: server.baseURL, dropID: scheduled, tokens: [operatorUser.token])[0].status == 403)
            #expect(try await server.pool.query("SELECT count(*) FROM orders")[0].int(0) == 0)
        }
    }

    @Test func declinedPaymentsPutUnitsBackOnSaleAndNothingIsEverOversold() async throws {
        try await withShopStack(settings: ["payments.window_s": "30"]) { stack in
            try await stack.startServe()
            try await stack.startMockPayments(["--decline-rate", "0.5"])
            try stack.startScheduler()
            try stack.startWorker()
            let stock = 20
            let drop = try await DropFixtures.insertDrop(stack.pool, kind: .openRun, stock: stock, closesIn: nil)
            var waves = 0
            var created = 0
            while waves < 12 {
                waves += 1
                let buyers = try await stack.users(100)
                let results = try await Self.rush(baseURL: stack.apiURL, dropID: drop, tokens: buyers.map(\.token), connections: 100)
                created += results.filter { $0.status == 201 }.count
                // Wait until every payment of this wave is final, so failed ones are back on sale.
                try await eventually(timeout: 60, "wave \(waves) settled its payments") {
                    try await stack.pool.query("SELECT held FROM drops WHERE id = $1", [.int(drop)])[0].int(0) == 0
                }
                let figures = try await stack.pool.query("SELECT sold, available FROM drops WHERE id = $1", [.int(drop)])[0]
                #expect(try figures.int(0) <= stock, "never more sold than stock")
                if try figures.int(0) == stock { break }
                // Released units are on sale again in the gate (the worker returned them).
                try await eventually("the gate holds the released units") {
                    let gate = try await AdmissionGate(redis: stack.redis, keyPrefix: stack.redisPrefix).state(dropID: drop)
                    return try gate?.remaining == figures.int(1)
                }
            }
            let sold = try await stack.pool.query("SELECT sold FROM drops WHERE id = $1", [.int(drop)])[0].int(0)
            #expect(sold == stock)
            #expect(created > stock, "declined units were sold again (\(created) orders for \(stock) units)")
            let orders = try await stack.pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(drop)])[0].int(0)
            #expect(orders == created)
            let stats = try await stack.mockStats()
            #expect(stats["double_charged_orders"] as? Int == 0)
            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
        }
    }

    @Test func redisFlushedInTheMiddleOfARushStillSellsNothingTwiceAndLosesNoUnit() async throws {
        try await Self.rushThroughARedisDisruption { redis, _ in
            try await redis.execute("FLUSHALL")
        }
    }

    @Test func redisRestartedInTheMiddleOfARushStillSellsNothingTwiceAndLosesNoUnit() async throws {
        try await Self.rushThroughARedisDisruption { _, scratch in
            try await scratch.restart(.redis)
        }
    }

    /// 3,000 buyers rush 50 units through `serve` and the scheduler while `disrupt` strikes Redis
    /// (on a private Redis: the other tests' data stays untouched). Afterwards every 201 is an
    /// order, nobody holds two, nothing is oversold, the gate agrees with PostgreSQL again, and
    /// later buyers buy whatever the rush left: no unit was lost.
    static func rushThroughARedisDisruption(
        _ disrupt: @escaping @Sendable (RedisClient, ScratchServices) async throws -> Void
    ) async throws {
        try await TestSlots.heavy.withSlot {
            try await withScratchServices { scratch in
                let redis = RedisClient(configuration: scratch.redisConfiguration)
                defer { redis.shutdown() }
                try await withTestDatabase(poolSize: 4) { pool, database in
                    let stack = try await ShopStack(pool: pool, database: database, redis: redis, redisPrefix: "disrupted:", scratchRedis: scratch)
                    do {
                        try await stack.startServe()
                        try stack.startScheduler()
                        let stock = 50
                        let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: stock, closesIn: nil)
                        let buyers = try await stack.users(3000)
                        async let results = Self.rush(baseURL: stack.apiURL, dropID: drop, tokens: buyers.map(\.token), connections: 50)
                        // Strike once purchases are flowing (orders exist), while many requests are still in flight.
                        try await eventually(timeout: 60, "purchases started") {
                            try await pool.query("SELECT count(*) FROM orders")[0].int(0) > 0
                        }
                        try await disrupt(redis, scratch)
                        let outcomes = try await results
                        let orders = try await pool.query("SELECT count(*), count(DISTINCT user_id) FROM orders WHERE drop_id = $1", [.int(drop)])[0]
                        let created = outcomes.filter { $0.status == 201 }.count
                        #expect(try orders.int(0) == created, "every 201 is an order and every order got its 201")
                        #expect(try orders.int(0) <= stock && orders.int(1) == orders.int(0), "no oversell, nobody twice")
                        #expect(outcomes.allSatisfy { [201, 409, 503].contains($0.status) }, "\(Set(outcomes.map(\.status)))")
                        let figures = try await pool.query("SELECT available, held FROM drops WHERE id = $1", [.int(drop)])[0]
                        #expect(try figures.int(0) + figures.int(1) == stock, "stock = available + held")
                        // The gate came back from PostgreSQL and agrees with it.
                        try await eventually("the gate agrees with PostgreSQL") {
                            let gate = try await AdmissionGate(redis: redis, keyPrefix: "disrupted:").state(dropID: drop)
                            return try gate?.remaining == figures.int(0) && gate?.pending == 0
                        }
                        // No unit was lost: whatever the rush left unsold, later buyers buy, and then
                        // exactly the stock is sold, each unit to a different customer.
                        let late = try await stack.users(2 * stock)
                        let lateOutcomes = try await Self.rush(baseURL: stack.apiURL, dropID: drop, tokens: late.map(\.token), connections: 50)
                        #expect(lateOutcomes.filter { $0.status == 201 }.count == (try figures.int(0)))
                        let total = try await pool.query(
                            "SELECT count(*), count(DISTINCT user_id) FROM orders WHERE drop_id = $1", [.int(drop)])[0]
                        #expect(try total.int(0) == stock && total.int(1) == stock)
                        try await Self.expectNoViolations(pool)
                        let audit = try await stack.command(["audit"])
                        #expect(audit.status == 0, "\(audit.output)")
                        await stack.stop()
                    } catch {
                        for process in stack.processes { print(process.output.suffix(2000)) }
                        await stack.stop()
                        throw error
                    }
                }
            }
        }
    }

    /// A payment that never completes expires at the end of the payment window: the unit goes
    /// back on sale in PostgreSQL and in the gate, and the next buyer gets it.
    @Test func anExpiredPaymentPutsItsUnitBackOnSale() async throws {
        // No grace for the callback either: the order expires when the window ends.
        try await withShopStack(settings: ["payments.window_s": "2", "payments.callback_grace_s": "0"]) { stack in
            try await stack.startServe()
            // Every charge is answered "pending" and its callback would come long after the window.
            try await stack.startMockPayments(["--pending-rate", "1", "--callback-delay-ms", "600000"])
            try stack.startScheduler()
            try stack.startWorker()
            let drop = try await DropFixtures.insertDrop(stack.pool, kind: .openRun, stock: 1, closesIn: nil)
            let buyers = try await stack.users(2)
            let first = try await Self.rush(baseURL: stack.apiURL, dropID: drop, tokens: [buyers[0].token])
            #expect(first[0].status == 201)
            try await eventually(timeout: 30, "the unpaid order expired") {
                try await stack.pool.query(
                    "SELECT status FROM orders WHERE drop_id = $1 AND user_id = $2", [.int(drop), .int(buyers[0].id)]
                )[0].string(0) == "expired"
            }
            try await eventually("the unit is back on sale in the gate") {
                try await AdmissionGate(redis: stack.redis, keyPrefix: stack.redisPrefix).state(dropID: drop)?.remaining == 1
            }
            #expect(try await Self.rush(baseURL: stack.apiURL, dropID: drop, tokens: [buyers[1].token])[0].status == 201)
            // (The second order may expire too by now: only the sum is certain.)
            let figures = try await stack.pool.query("SELECT available, held, sold FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try figures.int(0) + figures.int(1) == 1 && figures.int(2) == 0)
            let orders = try await stack.pool.query("SELECT user_id FROM orders WHERE drop_id = $1 ORDER BY id", [.int(drop)])
            #expect(try orders.map { try $0.int(0) } == buyers.map(\.id))
            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
        }
    }
}
