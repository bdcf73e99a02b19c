import Redis

/// One queue's finished jobs and failed attempts per minute, oldest minute first.
public struct QueueThroughput: Sendable {
    public struct Minute: Sendable {
        /// Unix milliseconds of the minute's start, on the queue's clock.
        public let startMilliseconds: Int
        public let processed: Int
        public let failed: Int
    }

    public let queue: String
    public let minutes: [Minute]
    public var processed: Int { minutes.map(\.processed).reduce(0, +) }
    public var failed: Int { minutes.map(\.failed).reduce(0, +) }
}

extension JobQueue {
    /// The last `minutes` minutes (the current one included) of every queue's counters, which
    /// the workers' acknowledge, retry and bury scripts keep (``QueueKeys/Queue/stats(_:)``):
    /// one read per queue, whatever the traffic was.
    public func throughput(minutes: Int = 60) async throws -> [QueueThroughput] {
        let base = try await redis.pipeline([RedisCommand("SMEMBERS", keys.queues), RedisCommand("TIME")])
        let now = try clock.manualMilliseconds ?? base[1].timeMilliseconds()
        let queues = try base[0].requireArray().compactMap(\.string).sorted()
        guard !queues.isEmpty, minutes > 0 else { return [] }
        let last = now / 60_000
        let range = (last - minutes + 1)...last
        var commands: [RedisCommand] = []
        for queue in queues {
            for what in ["processed", "failed"] {
                let stem = keys.of(queue).stats(what)
                commands.append(RedisCommand("MGET", range.map { (stem + String($0)) as any RedisArgument }))
            }
        }
        let replies = try await redis.pipeline(commands)
        return try queues.enumerated().map { index, queue in
            let processed = try replies[index * 2].requireArray()
            let failed = try replies[index * 2 + 1].requireArray()
            return QueueThroughput(
                queue: queue,
                minutes: range.enumerated().map { offset, minute in
                    QueueThroughput.Minute(
                        startMilliseconds: minute * 60_000,
                        processed: processed[offset].int ?? 0,
                        failed: failed[offset].int ?? 0)
                })
        }
    }
}
