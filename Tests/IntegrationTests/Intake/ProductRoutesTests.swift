import CurlHTTP
import Foundation
import Postgres
import Redis
import Settings
import ShopDomain
import Testing

@Suite struct ProductRoutesTests {
    @Test func operatorCreatesAndAnyoneReads() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let created = try await server.call(
                "POST", "/v1/products", token: operatorUser.token, body: #"{"name":"Runner","price_cents":9900,"currency":"EUR"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? Int)
            let read = try await server.call("GET", "/v1/products/\(id)")
            #expect(read.status == 200)
            #expect(read.json["name"] as? String == "Runner")
            #expect(read.json["price_cents"] as? Int == 9900)
            #expect(read.json["currency"] as? String == "EUR")

            #expect(try await server.call("GET", "/v1/products/999999").problemSlug == "not-found")
            #expect(try await server.call("GET", "/v1/products/abc").status == 404)
        }
    }

    @Test func invalidProductsAreRefusedFieldByField() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let response = try await server.call(
                "POST", "/v1/products", token: operatorUser.token, body: #"{"name":"","price_cents":-1,"currency":"euro"}"#)
            #expect(response.status == 400)
            let fields = (response.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
            #expect(fields == ["name", "price_cents", "currency"])

            let customer = try await server.makeUser()
            let forbidden = try await server.call(
                "POST", "/v1/products", token: customer.token, body: #"{"name":"x","price_cents":1,"currency":"EUR"}"#)
            #expect(forbidden.status == 403)

            // Nobody but an operator changes a product, and a refused change changes nothing.
            let created = try await server.call(
                "POST", "/v1/products", token: operatorUser.token, body: #"{"name":"Runner","price_cents":9900,"currency":"EUR"}"#)
            let id = try #require(created.json["id"] as? Int)
            let patch = #"{"price_cents":1}"#
            #expect(try await server.call("PATCH", "/v1/products/\(id)", token: customer.token, body: patch).status == 403)
            #expect(try await server.call("PATCH", "/v1/products/\(id)", body: patch).status == 401)
            let invalid = try await server.call("PATCH", "/v1/products/\(id)", token: operatorUser.token, body: #"{"price_cents":-5}"#)
            #expect(invalid.status == 400)
            #expect(try await server.call("GET", "/v1/products/\(id)").json["price_cents"] as? Int == 9900)
        }
    }

    @Test func readsAreCachedAndPatchInvalidates() async throws {
        try await withIntakeServer { server in
            let product = try await server.makeProduct(name: "Boot", priceCents: 100)
            let key = "\(server.keyPrefix)product:\(product.id)"

            #expect(try await server.call("GET", "/v1/products/\(product.id)").status == 200)
            #expect(try await server.metric("intake_product_cache_misses_total") == 1)
            #expect(try await server.redis.send(RedisCommand("EXISTS", key)).int == 1)

            #expect(try await server.call("GET", "/v1/products/\(product.id)").json["price_cents"] as? Int == 100)
            #expect(try await server.metric("intake_product_cache_hits_total") == 1)
            #expect(try await server.metric("intake_product_cache_loads_total") == 1)

            let operatorUser = try await server.makeUser(role: .operator)
            let patched = try await server.call(
                "PATCH", "/v1/products/\(product.id)", token: operatorUser.token, body: #"{"price_cents":250}"#)
            #expect(patched.status == 200)
            #expect(patched.json["name"] as? String == "Boot")
            #expect(try await server.redis.send(RedisCommand("EXISTS", key)).int == 0)

            #expect(try await server.call("GET", "/v1/products/\(product.id)").json["price_cents"] as? Int == 250)
            #expect(try await server.metric("intake_product_cache_misses_total") == 2)

            let empty = try await server.call("PATCH", "/v1/products/\(product.id)", token: operatorUser.token, body: "{}")
            #expect(empty.status == 400)
            let missing = try await server.call("PATCH", "/v1/products/999999", token: operatorUser.token, body: #"{"name":"x"}"#)
            #expect(missing.status == 404)
        }
    }

    @Test func aBurstOfMissesLoadsOnce() async throws {
        try await withIntakeServer { server in
            let product = try await server.makeProduct()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await server.call("GET", "/v1/products/\(product.id)").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            #expect(try await server.metric("intake_product_cache_loads_total") == 1)
            let hits = try await server.metric("intake_product_cache_hits_total")
            let misses = try await server.metric("intake_product_cache_misses_total")
            #expect(hits + misses == 50)
        }
    }
}
