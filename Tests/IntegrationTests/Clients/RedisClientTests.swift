import Redis
import Testing

/// Replies come back typed and byte-exact, in order, to the caller that sent the command.
@Suite struct RedisClientTests {
    @Test func repliesAreTyped() async throws {
        try await withRedisNamespace { client, prefix in
            #expect(try await client.execute("SET", prefix + "name", "drop") == .status("OK"))
            #expect(try await client.execute("GET", prefix + "name") == .bulk(Array("drop".utf8)))
            #expect(try await client.execute("GET", prefix + "name").string == "drop")
            #expect(try await client.execute("GET", prefix + "missing") == .null)
            #expect(try await client.execute("GET", prefix + "missing").isNull)
            #expect(try await client.execute("INCRBY", prefix + "count", 41) == .integer(41))
            #expect(try await client.execute("INCR", prefix + "count").requireInt() == 42)
            #expect(try await client.execute("GET", prefix + "count").int == 42)
            #expect(try await client.execute("INCRBYFLOAT", prefix + "float", 0.5).string == "0.5")

            try await client.execute("RPUSH", prefix + "list", "a", "", "c")
            let list = try await client.execute("LRANGE", prefix + "list", 0, -1).requireArray()
            #expect(list == [.bulk(Array("a".utf8)), .bulk([]), .bulk(Array("c".utf8))])
            #expect(try await client.execute("LRANGE", prefix + "missing", 0, -1) == .array([]))

            // Nested arrays with mixed element types (a script's table reply).
            let nested = try await client.execute(
                "EVAL", "return {1, 'two', {3, 'four'}, redis.status_reply('FINE')}", 0)
            #expect(nested == .array([.integer(1), .bulk(Array("two".utf8)), .array([.integer(3), .bulk(Array("four".utf8))]), .status("FINE")]))

            let pairs = try await client.execute("HSET", prefix + "hash", "f1", "v1", "f2", "v2").requireInt()
            #expect(pairs == 2)
            let hash = try await client.execute("HGETALL", prefix + "hash").requireArray().compactMap(\.string)
            #expect(Set(hash) == ["f1", "v1", "f2", "v2"])
        }
    }

    @Test func serverErrorsAreRepliesOrThrownOnRequest() async throws {
        try await withRedisNamespace { client, prefix in
            try await client.execute("SET", prefix + "text", "x")
            // `send` hands the error reply back…
            let reply = try await client.send(RedisCommand("LPUSH", prefix + "text", "y"))
            guard case .error(let message) = reply else {
                Issue.record("expected an error reply, got \(reply)")
                return
            }
            #expect(message.hasPrefix("WRONGTYPE"))
            // …`execute` throws it.
            let error = await #expect(throws: RedisError.self) { try await client.execute("LPUSH", prefix + "text", "y") }
            #expect(error?.code == .server)
            #expect(error?.message.hasPrefix("WRONGTYPE") == true)
            #expect(throws: RedisError.self) { try RedisReply.status("OK").requireInt() }
            #expect(throws: RedisError.self) { try RedisReply.integer(1).requireArray() }
            // The connection is in sync afterwards.
            #expect(try await client.execute("GET", prefix + "text").string == "x")
        }
    }

    @Test func valuesAreBinarySafe() async throws {
        try await withRedisNamespace { client, prefix in
            let allBytes = (0...255).map(UInt8.init)
            let values: [[UInt8]] = [
                allBytes, allBytes.reversed(), [0], [0, 0, 0], [0xFF], [], Array("\r\n$-1\r\n".utf8), Array(repeating: 0, count: 1 << 20),
            ]
            for (index, value) in values.enumerated() {
                try await client.execute("SET", prefix + "bin:\(index)", value)
                #expect(try await client.execute("GET", prefix + "bin:\(index)") == .bulk(value))
                #expect(try await client.execute("STRLEN", prefix + "bin:\(index)") == .integer(value.count))
            }
            // Keys are binary-safe too.
            let key = Array(prefix.utf8) + [0, 0xFF, 13, 10]
            var set = RedisCommand("SET")
            set.append(key)
            set.append(allBytes)
            #expect(try await client.send(set) == .status("OK"))
            var get = RedisCommand("GET")
            get.append(key)
            #expect(try await client.send(get) == .bulk(allBytes))
            var delete = RedisCommand("DEL")
            delete.append(key)
            #expect(try await client.send(delete) == .integer(1))
        }
    }

    @Test func tenThousandPipelinedCommandsAllAnswerInOrder() async throws {
        try await withRedisNamespace { client, prefix in
            let count = 10_000
            let sets = (0..<count).map { RedisCommand("SET", prefix + "k:\($0)", "value-\($0)") }
            let setReplies = try await client.pipeline(sets)
            #expect(setReplies.count == count)
            #expect(setReplies.allSatisfy { $0 == .status("OK") })

            // A mix of reply types in one pipeline, each where its command was.
            var mixed: [RedisCommand] = []
            for index in 0..<count {
                switch index % 3 {
                case 0: mixed.append(RedisCommand("GET", prefix + "k:\(index)"))
                case 1: mixed.append(RedisCommand("INCRBY", prefix + "sum", index))
                default: mixed.append(RedisCommand("EXISTS", prefix + "k:\(index + count)"))
                }
            }
            let replies = try await client.pipeline(mixed)
            #expect(replies.count == count)
            var runningSum = 0
            var wrong = 0
            for (index, reply) in replies.enumerated() {
                switch index % 3 {
                case 0: if reply != .bulk(Array("value-\(index)".utf8)) { wrong += 1 }
                case 1:
                    runningSum += index
                    if reply != .integer(runningSum) { wrong += 1 }
                default: if reply != .integer(0) { wrong += 1 }
                }
            }
            #expect(wrong == 0)
        }
    }

    @Test func concurrentCallersGetTheirOwnReplies() async throws {
        let configuration = try await TestServices.shared.redisConfiguration()
        let client = RedisClient(configuration: configuration, connections: 2, name: "redis-concurrent")
        defer { client.shutdown() }
        try await withRedisNamespace { _, prefix in
            let callers = 200
            let rounds = 25
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        var mismatches = 0
                        for round in 0..<rounds {
                            let value = "caller-\(caller)-round-\(round)"
                            let key = prefix + "c:\(caller)"
                            // Single commands and small pipelines from many tasks at once share
                            // round trips; each must still see exactly its own replies.
                            if round % 2 == 0 {
                                try await client.execute("SET", key, value)
                                if try await client.execute("GET", key).string != value { mismatches += 1 }
                            } else {
                                let replies = try await client.pipeline([
                                    RedisCommand("SET", key, value),
                                    RedisCommand("GET", key),
                                    RedisCommand("INCR", key + ":n"),
                                ])
                                if replies != [.status("OK"), .bulk(Array(value.utf8)), .integer(round / 2 + 1)] {
                                    mismatches += 1
                                }
                            }
                        }
                        return mismatches
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
        }
    }

    @Test func closedClientRefusesCommands() async throws {
        let client = RedisClient(configuration: try await TestServices.shared.redisConfiguration(), name: "redis-closing")
        #expect(try await client.execute("PING") == .status("PONG"))
        client.shutdown()
        let error = await #expect(throws: RedisError.self) { try await client.execute("PING") }
        #expect(error?.code == .closed)
    }

    /// Shutting down while 200 callers are sending: nobody is left waiting, the only failure is
    /// `.closed`, and the answers are true — each INCR that succeeded ran once and each refused
    /// one never ran, so the counter equals the successes. (A drain that failed requests it had
    /// already sent, or lost one, breaks the equation.)
    @Test func shutdownUnderLoadAnswersEveryCallerTruthfully() async throws {
        let configuration = try await TestServices.shared.redisConfiguration()
        try await withRedisNamespace { reader, prefix in
            let client = RedisClient(configuration: configuration, name: "redis-shutdown")
            let key = prefix + "counter"
            let outcomes = await withTaskGroup(of: RedisError.Code?.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        do {
                            try await client.execute("INCR", key)
                            return nil
                        } catch let error as RedisError {
                            return error.code
                        } catch {
                            return RedisError.Code("unexpected")
                        }
                    }
                }
                group.addTask {
                    client.shutdown()
                    return nil
                }
                return await group.reduce(into: [RedisError.Code?]()) { $0.append($1) }
            }
            let failures = outcomes.compactMap { $0 }
            let refused = failures.filter { $0 == .closed }.count
            #expect(refused == failures.count, "only refusals may fail: \(failures)")
            #expect(outcomes.count == 201)
            let counter = try await reader.execute("GET", key).string.flatMap { Int($0) } ?? 0
            #expect(counter == 200 - refused)
        }
    }

    @Test func unreachableServerFailsWithConnectionFailure() async throws {
        let port = try ClosedPort()
        let client = RedisClient(configuration: RedisConfiguration(port: port.number), name: "redis-unreachable")
        defer { client.shutdown() }
        let error = await #expect(throws: RedisError.self) { try await client.execute("PING") }
        #expect(error?.code == .connectionFailure)
    }
}
