import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Synchronization
import Testing

/// The listings (docs/contract.md, "HTTP API") over real HTTP and PostgreSQL: who may list what, keyset
/// pages with no duplicates or gaps even while rows are added between pages, and bad parameters.
@Suite struct ListingRoutesTests {
    /// Follows `next_after` from the first page to the last; returns every item in order.
    static func allPages(
        _ server: IntakeTestServer, _ path: String, key: String, limit: Int, token: String? = nil,
        between: @Sendable (Int) async throws -> Void = { _ in }
    ) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var after: String?
        var page = 0
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let url = path + separator + "limit=\(limit)" + (after.map { "&after=\($0)" } ?? "")
            let response = try await server.call("GET", url, token: token)
            try #require(response.status == 200, "\(url): \(response.status) \(response.bodyText)")
            let pageItems = response.json[key] as? [[String: Any]] ?? []
            #expect(pageItems.count <= limit)
            items += pageItems
            after = (response.json["next_after"] as? Int).map(String.init) ?? response.json["next_after"] as? String
            page += 1
            try await between(page)
        } while after != nil && page < 100
        return items
    }

    @Test func anyoneListsOpenAndScheduledDropsAndOperatorsListEveryStatus() async throws {
        try await withIntakeServer { server in
            var publicIDs: [Int] = []
            for index in 0..<7 {
                let status: DropStatus = index % 2 == 0 ? .open : .scheduled
                publicIDs.append(try await DropFixtures.insertDrop(server.pool, kind: .draw, status: status, opensIn: status == .open ? -60 : 600))
            }
            let closing = try await DropFixtures.insertDrop(server.pool, kind: .draw, status: .closing)
            let operatorUser = try await server.makeUser(role: .operator)
            let customer = try await server.makeUser()

            // Pages of 3 cover the public drops exactly once, in id order; a drop created
            // between two pages (a larger id) is on a later page, never twice.
            let added = LockedValue<Int?>(nil)
            let listed = try await Self.allPages(server, "/v1/drops", key: "drops", limit: 3) { page in
                if page == 1 { added.set(try await DropFixtures.insertDrop(server.pool, kind: .openRun, status: .open)) }
            }
            let ids = listed.compactMap { $0["id"] as? Int }
            let expected = publicIDs + [try #require(added.get())]
            #expect(ids == expected)
            #expect(Set(ids).count == ids.count)
            #expect(!ids.contains(closing))

            let open = try await server.call("GET", "/v1/drops?status=open", token: customer.token)
            #expect((open.json["drops"] as? [[String: Any]] ?? []).allSatisfy { $0["status"] as? String == "open" })
            #expect((open.json["drops"] as? [[String: Any]] ?? []).count == 5)

            // Other statuses are the operators' view.
            let refused = try await server.call("GET", "/v1/drops?status=closing", token: customer.token)
            #expect(refused.status == 403)
            #expect(refused.problemSlug == "forbidden")
            #expect(try await server.call("GET", "/v1/drops?status=closing").status == 403)
            let closingPage = try await server.call("GET", "/v1/drops?status=closing", token: operatorUser.token)
            #expect((closingPage.json["drops"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int } == [closing])
            let everything = try await Self.allPages(server, "/v1/drops", key: "drops", limit: 4, token: operatorUser.token)
            #expect(everything.compactMap { $0["id"] as? Int }.sorted() == (expected + [closing]).sorted())
        }
    }

    @Test func badListingParametersAreProblems() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeUser()
            for path in [
                "/v1/drops?limit=0", "/v1/drops?limit=501", "/v1/drops?after=x", "/v1/drops?after=-1",
                "/v1/drops?status=gone", "/v1/me/orders?after=abc", "/v1/me/entries?after=12",
                "/v1/me/entries?limit=many",
            ] {
                let response = try await server.call("GET", path, token: customer.token)
                #expect(response.status == 400, "\(path)")
                #expect(response.problemSlug == "invalid-request", "\(path)")
                #expect(response.header("Content-Type") == "application/problem+json", "\(path)")
            }
            #expect(try await server.call("GET", "/v1/me/entries").status == 401)
            #expect(try await server.call("GET", "/v1/me/orders").status == 401)
            let operatorUser = try await server.makeUser(role: .operator)
            #expect(try await server.call("GET", "/v1/me/orders", token: operatorUser.token).status == 403)
        }
    }

    @Test func myEntriesArePagedNewestFirstWithoutDuplicatesOrGaps() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeUser()
            let other = try await server.makeUser()
            var drops: [Int] = []
            for _ in 0..<8 { drops.append(try await DropFixtures.insertDrop(server.pool, kind: .draw)) }
            // Entries at chosen times, some at the very same instant: the drop id breaks the tie.
            let base = Date(timeIntervalSince1970: 1_700_000_000)
            let offsets: [Double] = [0, 10, 10, 10, 20, 30.001, 30.002, 40]
            for (drop, offset) in zip(drops, offsets) {
                try await server.pool.query(
                    "INSERT INTO entries (drop_id, user_id, tickets, created_at) VALUES ($1, $2, 1, $3)",
                    [.int(drop), .int(customer.id), .timestamp(base.addingTimeInterval(offset))])
            }
            try await DropFixtures.insertEntries(server.pool, dropID: drops[0], users: [other.id])
            // Newest first; equal times in descending drop id.
            let expected = zip(drops, offsets).sorted { ($0.1, $0.0) > ($1.1, $1.0) }.map(\.0)

            // An entry made between two pages is newer than the cursor: it belongs to a first
            // page read later, and must not slip into this walk or push anything out of it.
            let late = try await DropFixtures.insertDrop(server.pool, kind: .draw)
            let listed = try await Self.allPages(server, "/v1/me/entries", key: "entries", limit: 3, token: customer.token) { page in
                if page == 1 { try await DropFixtures.insertEntries(server.pool, dropID: late, users: [customer.id]) }
            }
            #expect(listed.compactMap { $0["drop_id"] as? Int } == expected)
            #expect(listed.allSatisfy { $0["user_id"] as? Int == customer.id && $0["status"] as? String == "entered" })

            let fresh = try await server.call("GET", "/v1/me/entries?limit=1", token: customer.token)
            #expect((fresh.json["entries"] as? [[String: Any]] ?? []).compactMap { $0["drop_id"] as? Int } == [late])
        }
    }

    @Test func myOrdersArePagedNewestFirstAndShowALostPurchase() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeUser()
            let other = try await server.makeUser()
            var orderIDs: [Int] = []
            for _ in 0..<5 {
                let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun)
                for user in [customer.id, other.id] {
                    let id = try await server.pool.query(
                        """
                        INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                        VALUES ($1, $2, 12000, 'EUR', $3, now() + interval '15 minutes') RETURNING id
                        """,
                        [.int(drop), .int(user), .text(UUID().uuidString)])[0].int(0)
                    if user == customer.id { orderIDs.append(id) }
                }
            }
            let listed = try await Self.allPages(server, "/v1/me/orders", key: "orders", limit: 2, token: customer.token)
            #expect(listed.compactMap { $0["id"] as? Int } == orderIDs.reversed())
            #expect(listed.allSatisfy { $0["user_id"] as? Int == customer.id })

            // An open-run buyer whose 201 got lost finds the order here.
            let run = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 1)
            let buyer = try await server.makeUser()
            let purchase = try await server.call("POST", "/v1/drops/\(run)/purchase", token: buyer.token)
            #expect(purchase.status == 201)
            let found = try await server.call("GET", "/v1/me/orders", token: buyer.token)
            let orders = found.json["orders"] as? [[String: Any]] ?? []
            #expect(orders.compactMap { $0["drop_id"] as? Int } == [run])
            #expect(orders.first?["id"] as? Int == purchase.json["id"] as? Int)
        }
    }

    @Test func corsAnswersOnlyTheAllowedOrigins() async throws {
        try await withIntakeServer(["http.cors_origins": "https://shop.example, http://localhost:3000"]) { server in
            let preflight = [
                ("Origin", "https://shop.example"), ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization"),
            ]
            let allowed = try await server.call("OPTIONS", "/v1/drops", headers: preflight)
            #expect(allowed.status == 204)
            #expect(allowed.header("Access-Control-Allow-Origin") == "https://shop.example")
            #expect(allowed.header("Access-Control-Allow-Headers")?.contains("Authorization") == true)
            #expect(allowed.header("Access-Control-Allow-Methods")?.contains("GET") == true)

            let evil = [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")]
            let refused = try await server.call("OPTIONS", "/v1/drops", headers: evil)
            #expect(refused.status == 403)
            #expect(refused.header("Access-Control-Allow-Origin") == nil)

            let read = try await server.call("GET", "/v1/drops", headers: [("Origin", "http://localhost:3000")])
            #expect(read.status == 200)
            #expect(read.header("Access-Control-Allow-Origin") == "http://localhost:3000")
            // A refusal must be readable by the front end too.
            let problem = try await server.call("GET", "/v1/drops?limit=0", headers: [("Origin", "https://shop.example")])
            #expect(problem.status == 400)
            #expect(problem.header("Access-Control-Allow-Origin") == "https://shop.example")
            let foreign = try await server.call("GET", "/v1/drops", headers: [("Origin", "https://evil.example")])
            #expect(foreign.status == 200)
            #expect(foreign.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func withoutAnAllowListNoOriginPasses() async throws {
        try await withIntakeServer { server in
            let response = try await server.call(
                "OPTIONS", "/v1/drops", headers: [("Origin", "https://shop.example"), ("Access-Control-Request-Method", "GET")])
            #expect(response.status >= 400)
            #expect(response.header("Access-Control-Allow-Origin") == nil)
            let read = try await server.call("GET", "/v1/drops", headers: [("Origin", "https://shop.example")])
            #expect(read.status == 200)
            #expect(read.header("Access-Control-Allow-Origin") == nil)
        }
    }
}

/// A value tests hand between closures.
final class LockedValue<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    func get() -> Value { storage.withLock { $0 } }
    func set(_ value: Value) { storage.withLock { $0 = value } }
}
