import LocalServices
import Redis
import Testing

/// After a Redis restart the clients reconnect by themselves, and what was written before the
/// restart is still there (the server runs with an append-only file). Runs against a scratch
/// server so the shared one is never disturbed.
@Suite struct RedisRestartTests {
    @Test func clientsRecoverAndDataSurvivesARestart() async throws {
        try await withScratchServices { scratch in
            let client = RedisClient(configuration: scratch.redisConfiguration, connections: 2, name: "redis-restart")
            let blocking = RedisBlockingClient(configuration: scratch.redisConfiguration, name: "redis-restart-blocking")
            defer {
                client.shutdown()
                blocking.shutdown()
            }
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            let binary = (0...255).map(UInt8.init)

            // Written before the restart.
            let keys = (0..<500).map { "before:\($0)" }
            let sets = try await client.pipeline(keys.map { RedisCommand("SET", $0, "value-\($0)") })
            #expect(sets.allSatisfy { $0 == .status("OK") })
            try await client.execute("SET", "binary", binary)
            try await client.execute("RPUSH", "queue", "job-1", "job-2", "job-3")
            try await client.execute("HSET", "hash", "field", "限定 😀")
            #expect(try await client.run(script, keys: ["counter"], arguments: [10]) == .integer(10))
            #expect(try await blocking.blmove(from: "queue", to: "processing", timeoutSeconds: 1) == Array("job-1".utf8))

            try await scratch.restart(.redis)

            // Every connection was closed by the restart. A connection that was idle learns it on
            // its next command, which fails with connectionFailure (it may or may not have run);
            // the command after that runs on a new connection.
            var failures = 0
            var answer: RedisReply?
            for _ in 0..<4 {
                do {
                    answer = try await client.execute("GET", "before:0")
                    break
                } catch let error as RedisError {
                    #expect(error.code == .connectionFailure, "got \(error)")
                    failures += 1
                }
            }
            #expect(failures <= 2)
            #expect(answer == .bulk(Array("value-before:0".utf8)))

            let values = try await client.pipeline(keys.map { RedisCommand("GET", $0) })
            #expect(values == keys.map { .bulk(Array("value-\($0)".utf8)) })
            #expect(try await client.execute("GET", "binary") == .bulk(binary))
            #expect(try await client.execute("LRANGE", "queue", 0, -1).requireArray().compactMap(\.string) == ["job-2", "job-3"])
            #expect(try await client.execute("LRANGE", "processing", 0, -1).requireArray().compactMap(\.string) == ["job-1"])
            #expect(try await client.execute("HGET", "hash", "field").string == "限定 😀")
            // Loaded scripts do not survive a restart: the client loads it again by itself.
            #expect(try await client.run(script, keys: ["counter"], arguments: [5]) == .integer(15))

            // The blocking client's connection broke too; it reconnects on the next call.
            var moved: [UInt8]?
            var blockingFailures = 0
            for _ in 0..<2 {
                do {
                    moved = try await blocking.blmove(from: "queue", to: "processing", timeoutSeconds: 1)
                    break
                } catch let error as RedisError {
                    #expect(error.code == .connectionFailure, "got \(error)")
                    blockingFailures += 1
                }
            }
            #expect(blockingFailures <= 1)
            #expect(moved == Array("job-2".utf8))
        }
    }

    @Test func callsWhileRedisIsDownFailAndRecoverWhenItIsBack() async throws {
        try await withScratchServices { scratch in
            let client = RedisClient(configuration: scratch.redisConfiguration, name: "redis-outage")
            defer { client.shutdown() }
            try await client.execute("SET", "kept", "yes")

            try await runBlocking { try scratch.services.stopOnly(.redis) }
            // A pipeline far larger than the socket buffers, written to a connection the server
            // has closed: it must fail as an error, not take the process down (SIGPIPE).
            let large = (0..<10_000).map { RedisCommand("SET", "large:\($0)", String(repeating: "x", count: 200)) }
            let pipelineError = await #expect(throws: RedisError.self) { try await client.pipeline(large) }
            #expect(pipelineError?.code == .connectionFailure)
            for _ in 0..<2 {
                let error = await #expect(throws: RedisError.self) { try await client.execute("GET", "kept") }
                #expect(error?.code == .connectionFailure)
            }

            _ = try await runBlocking { try scratch.services.start() }
            #expect(try await client.execute("GET", "kept").string == "yes")
        }
    }
}
