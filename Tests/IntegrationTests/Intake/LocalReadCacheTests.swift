import CurlHTTP
import Foundation
import Postgres
import Redis
import ShopDomain
import Testing

@testable import Intake

/// The in-process cache of product and drop reads (issue 16, item 8): a write on one instance is
/// seen on another long before the local time to live, the cache is bounded, and with its
/// invalidation subscription killed reads are still fresh.
///
/// Each test sets a time to live of ten minutes, so only an invalidation can explain a fresh read.
/// Serialized: one test kills every pub/sub connection of the shared Redis.
@Suite(.serialized) struct LocalReadCacheTests {
    static let longTTL = ["cache.local_ttl_ms": "600000"]

    /// Until the instance's subscription is up, its local cache neither keeps nor serves anything.
    static func waitUntilLive(_ server: IntakeTestServer) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.service.localReads.cache.isLive {
            guard ContinuousClock.now < deadline else { throw TestFailure("the invalidation subscription never came up") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Renames a product behind every cache's back (PostgreSQL directly, the Redis copy dropped,
    /// nothing published): a read that still answers the old name came from the local cache.
    static func renameBehindTheCaches(_ server: IntakeTestServer, _ id: Int, to name: String) async throws {
        try await server.pool.query("UPDATE products SET name = $2 WHERE id = $1", [.int(id), .text(name)])
        try await server.redis.execute("DEL", "\(server.keyPrefix)product:\(id)")
    }

    static func name(_ server: IntakeTestServer, _ id: Int) async throws -> String? {
        try await server.call("GET", "/v1/products/\(id)").json["name"] as? String
    }

    /// Reads until `read` answers `expected` (at most ten seconds); the last answer.
    static func eventually(_ expected: String, _ read: () async throws -> String?) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(10)
        var last = try await read()
        while last != expected && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            last = try await read()
        }
        return last
    }

    @Test func aWriteOnOneInstanceIsSeenOnTheOtherLongBeforeTheTimeToLive() async throws {
        try await AuthAttemptLimitTests.withTwoInstances(Self.longTTL) { (one: IntakeTestServer, two: IntakeTestServer) async throws in
            try await Self.waitUntilLive(one)
            try await Self.waitUntilLive(two)
            let product = try await one.makeProduct(name: "Old")
            #expect(try await Self.name(two, product.id) == "Old")
            try await Self.renameBehindTheCaches(two, product.id, to: "Hidden")
            #expect(try await Self.name(two, product.id) == "Old", "the second read is the local copy")

            let operatorUser = try await one.makeUser(role: .operator)
            let patched = try await one.call("PATCH", "/v1/products/\(product.id)", token: operatorUser.token, body: #"{"name":"New"}"#)
            #expect(patched.status == 200)
            #expect(try await Self.eventually("New") { try await Self.name(two, product.id) } == "New")

            // A drop cancelled through one instance reads cancelled on the other.
            let drop = try await one.makeDrop()
            let status: () async throws -> String? = { try await two.call("GET", "/v1/drops/\(drop.id)").json["status"] as? String }
            let before = try await status()
            #expect(before != nil && before != "cancelled")
            #expect(try await one.call("POST", "/v1/drops/\(drop.id)/cancel", token: operatorUser.token).status == 200)
            #expect(try await Self.eventually("cancelled", status) == "cancelled")
        }
    }

    @Test func theCacheKeepsAtMostItsEntries() async throws {
        try await withIntakeServer(Self.longTTL.merging(["cache.local_entries": "3"]) { $1 }) { server in
            try await Self.waitUntilLive(server)
            var products: [Int] = []
            for index in 0..<5 { products.append(try await server.makeProduct(name: "P\(index)").id) }
            for id in products { #expect(try await Self.name(server, id) != nil) }
            #expect(server.service.localReads.cache.count == 3)
            // The first was evicted (its change is read), the last is still kept (its is not).
            try await Self.renameBehindTheCaches(server, products[0], to: "Fresh")
            try await Self.renameBehindTheCaches(server, products[4], to: "Fresh")
            #expect(try await Self.name(server, products[0]) == "Fresh")
            #expect(try await Self.name(server, products[4]) == "P4")
            #expect(server.service.localReads.cache.count == 3)
        }
    }

    @Test func withTheSubscriptionKilledReadsStayFresh() async throws {
        try await withIntakeServer(Self.longTTL) { server in
            try await Self.waitUntilLive(server)
            let product = try await server.makeProduct(name: "Old")
            #expect(try await Self.name(server, product.id) == "Old")
            try await Self.renameBehindTheCaches(server, product.id, to: "Hidden")
            #expect(try await Self.name(server, product.id) == "Old", "the second read is the local copy")

            // The subscription dies: what it would have carried meanwhile is lost, so the local
            // copies must go (and the cache be bypassed until it is back).
            let killed = try await server.redis.execute("CLIENT", "KILL", "TYPE", "pubsub")
            #expect((killed.int ?? 0) >= 1)
            try await Self.renameBehindTheCaches(server, product.id, to: "Fresh")
            #expect(try await Self.eventually("Fresh") { try await Self.name(server, product.id) } == "Fresh")

            // Resubscribed, the cache serves again.
            try await Self.waitUntilLive(server)
            #expect(try await Self.name(server, product.id) == "Fresh")
            try await Self.renameBehindTheCaches(server, product.id, to: "Later")
            #expect(try await Self.name(server, product.id) == "Fresh", "kept again after resubscribing")
        }
    }
}
