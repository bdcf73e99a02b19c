import CurlHTTP
import Foundation
import NIOCore
import Postgres
import Settings
import ShopDomain
import Testing

@testable import Intake

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

    /// The per-address limit counts an IP, whichever port its connections come from.
    @Test func anAddressIsItsIPWithoutThePortAndIPv6ItsSlash64() throws {
        let one = try SocketAddress(ipAddress: "192.0.2.7", port: 40_001)
        let sameIPOtherPort = try SocketAddress(ipAddress: "192.0.2.7", port: 40_002)
        let otherIP = try SocketAddress(ipAddress: "192.0.2.8", port: 40_001)
        let v6 = try SocketAddress(ipAddress: "2001:db8::7", port: 40_001)
        let v6OtherPort = try SocketAddress(ipAddress: "2001:db8::7", port: 40_002)
        let sameV6Network = try SocketAddress(ipAddress: "2001:db8::1:7", port: 40_001)
        let otherV6 = try SocketAddress(ipAddress: "2001:db8:0:1::7", port: 40_001)
        #expect(ClientAddress(one) == ClientAddress(sameIPOtherPort))
        #expect(ClientAddress(one) != ClientAddress(otherIP))
        #expect(ClientAddress(v6) == ClientAddress(v6OtherPort))
        // IPv6 counts by /64: rotating the interface half of the address changes nothing.
        #expect(ClientAddress(v6) == ClientAddress(sameV6Network))
        #expect(ClientAddress(v6) != ClientAddress(otherV6))
        #expect(ClientAddress(v6).keyText == "2001:db8::")
        #expect(ClientAddress(one).keyText == "192.0.2.7")
        #expect(ClientAddress(v6) != ClientAddress(one))
        #expect(ClientAddress(nil) != ClientAddress(one))
    }
}
