import Foundation
import Redis
import Testing

/// Scripts run by SHA and are loaded again whenever the server does not know them.
@Suite struct RedisScriptTests {
    /// A script no server has seen yet: its source (and so its SHA) is unique to this call.
    static func freshScript() -> RedisScript {
        RedisScript(
            """
            -- \(UUID().uuidString)
            redis.call('SET', KEYS[1], ARGV[1])
            return redis.call('INCRBY', KEYS[2], ARGV[2])
            """)
    }

    @Test func anUnknownScriptIsLoadedAndRun() async throws {
        try await withRedisNamespace { client, prefix in
            let script = Self.freshScript()
            #expect(try await client.execute("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))
            let reply = try await client.run(script, keys: [prefix + "a", prefix + "n"], arguments: ["x", 5])
            #expect(reply == .integer(5))
            #expect(try await client.execute("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))
            #expect(try await client.execute("GET", prefix + "a").string == "x")
            // Loaded now: runs straight away.
            #expect(try await client.run(script, keys: [prefix + "a", prefix + "n"], arguments: ["y", 2]) == .integer(7))
        }
    }

    @Test func severalCallsOfAnUnknownScriptShareOneLoad() async throws {
        try await withRedisNamespace { client, prefix in
            let script = Self.freshScript()
            let calls = (0..<50).map { (keys: [prefix + "v:\($0)", prefix + "total"], arguments: ["\($0)", 1] as [any RedisArgument]) }
            let replies = try await client.runAll(script, calls: calls)
            // INCRBY replies count up in call order: the calls ran in order, each exactly once.
            #expect(replies == (1...50).map { .integer($0) })
            #expect(try await client.execute("GET", prefix + "v:49").string == "49")
        }
    }

    @Test func scriptErrorsAreRepliesNotReloads() async throws {
        try await withRedisNamespace { client, prefix in
            let script = RedisScript("return redis.call('INCR', KEYS[1])")
            try await client.execute("SET", prefix + "word", "not a number")
            let reply = try await client.run(script, keys: [prefix + "word"])
            guard case .error(let message) = reply else {
                Issue.record("expected an error reply, got \(reply)")
                return
            }
            #expect(message.contains("not an integer"))
            let error = #expect(throws: RedisError.self) { try reply.throwingError() }
            #expect(error?.code == .server)
        }
    }

    @Test func scriptsAreReloadedAfterScriptFlush() async throws {
        // SCRIPT FLUSH empties the server's whole script cache: done on a scratch server so that
        // no other test's scripts vanish under it.
        try await withScratchServices { scratch async throws in
            let client = RedisClient(configuration: scratch.redisConfiguration, name: "redis-flush")
            defer { client.shutdown() }
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.run(script, keys: ["flush:n"], arguments: [3]) == .integer(3))
            #expect(try await client.execute("SCRIPT", "FLUSH") == .status("OK"))
            #expect(try await client.execute("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))
            #expect(try await client.run(script, keys: ["flush:n"], arguments: [4]) == .integer(7))
            #expect(try await client.execute("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))
        }
    }
}
