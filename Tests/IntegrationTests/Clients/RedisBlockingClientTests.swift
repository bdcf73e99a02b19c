import Foundation
import Redis
import Testing

/// Blocking list commands wait on a connection of their own and wake up when an element arrives.
@Suite struct RedisBlockingClientTests {
    @Test func blmoveTimesOutWithNil() async throws {
        try await withRedisNamespace { _, prefix in
            let blocking = RedisBlockingClient(configuration: try await TestServices.shared.redisConfiguration())
            defer { blocking.shutdown() }
            let started = ContinuousClock.now
            let moved = try await blocking.blmove(from: prefix + "empty", to: prefix + "taken", timeoutSeconds: 0.3)
            let waited = ContinuousClock.now - started
            #expect(moved == nil)
            // The server held the call for its timeout (not an immediate empty answer), and the
            // client did not mistake the wait for a dead connection.
            #expect(waited >= .milliseconds(250))
            #expect(waited < .seconds(10))
            #expect(try await blocking.blmove(from: prefix + "empty", to: prefix + "taken", timeoutSeconds: 0.1) == nil)
        }
    }

    @Test func blmoveWakesUpAndMovesTheElement() async throws {
        try await withRedisNamespace { client, prefix in
            let blocking = RedisBlockingClient(configuration: try await TestServices.shared.redisConfiguration())
            defer { blocking.shutdown() }
            let name = "blmove-\(UUID().uuidString.prefix(8))"
            _ = try await blocking.send(RedisCommand("CLIENT", "SETNAME", name), blockingSeconds: 0).throwingError()

            let waiter = Task {
                try await blocking.blmove(from: prefix + "queue", to: prefix + "processing", timeoutSeconds: 20)
            }
            let blocked = try await eventually {
                let clients = try await client.execute("CLIENT", "LIST").string ?? ""
                return clients.split(separator: "\n").contains { $0.contains("name=\(name) ") && $0.contains("cmd=blmove") }
            }
            try #require(blocked, "the BLMOVE never blocked on the server")

            let job: [UInt8] = [0, 1, 2, 0xFF] + Array("job-1".utf8)
            try await client.execute("RPUSH", prefix + "queue", job)
            #expect(try await waiter.value == job)
            #expect(try await client.execute("LRANGE", prefix + "processing", 0, -1) == .array([.bulk(job)]))
            #expect(try await client.execute("LLEN", prefix + "queue") == .integer(0))
        }
    }

    @Test func blmoveTakesFromTheHeadAndAppendsToTheTail() async throws {
        try await withRedisNamespace { client, prefix in
            let blocking = RedisBlockingClient(configuration: try await TestServices.shared.redisConfiguration())
            defer { blocking.shutdown() }
            try await client.execute("RPUSH", prefix + "queue", "first", "second")
            try await client.execute("RPUSH", prefix + "processing", "older")
            #expect(try await blocking.blmove(from: prefix + "queue", to: prefix + "processing", timeoutSeconds: 1) == Array("first".utf8))
            let processing = try await client.execute("LRANGE", prefix + "processing", 0, -1).requireArray().compactMap(\.string)
            #expect(processing == ["older", "first"])
        }
    }

    @Test func brpopReturnsKeyAndValueOrNil() async throws {
        try await withRedisNamespace { client, prefix in
            let blocking = RedisBlockingClient(configuration: try await TestServices.shared.redisConfiguration())
            defer { blocking.shutdown() }
            #expect(try await blocking.brpop([prefix + "a", prefix + "b"], timeoutSeconds: 0.1) == nil)
            try await client.execute("RPUSH", prefix + "b", "x", "y")
            let popped = try await blocking.brpop([prefix + "a", prefix + "b"], timeoutSeconds: 1)
            #expect(popped?.key == prefix + "b")
            #expect(popped?.value == Array("y".utf8))
        }
    }
}
