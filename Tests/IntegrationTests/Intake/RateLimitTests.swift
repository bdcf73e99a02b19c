import CurlHTTP
import Foundation
import Postgres
import Settings
import ShopDomain
import Testing

@Suite struct RateLimitTests {
    @Test func aCustomerOverTheLimitGets429WithRetryAfter() async throws {
        try await withIntakeServer(["limits.customer_per_s": "0.1", "limits.customer_burst": "2"]) { server in
            let drop = try await server.makeDrop()
            let customer = try await server.makeUser()
            let other = try await server.makeUser()
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status == 201)
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status == 200)
            let limited = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token)
            #expect(limited.status == 429)
            #expect(limited.problemSlug == "rate-limited")
            let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 10)
            // Another customer has a bucket of their own.
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: other.token).status == 201)
        }
    }

    @Test func anAddressOverTheLimitGets429() async throws {
        try await withIntakeServer(["limits.ip_per_s": "0.1", "limits.ip_burst": "3"]) { server in
            for _ in 0..<3 { #expect(try await server.call("GET", "/v1/products/1").status == 404) }
            let limited = try await server.call("GET", "/v1/products/1")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") != nil)
            // Probes are never limited.
            #expect(try await server.call("GET", "/healthz").status == 200)
        }
    }
}
