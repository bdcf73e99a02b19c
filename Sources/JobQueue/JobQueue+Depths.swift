import Redis

/// The queues' sizes for the metrics sampler: counts only, in two pipelined round trips of
/// O(1) commands (a few per queue, and one per queue and registered worker), unlike ``JobQueue/overview(liveWithinMilliseconds:)``,
/// which reads whole structures to split them by queue.
public struct QueueDepths: Sendable, Equatable {
    /// Jobs waiting in each queue's list, by queue name.
    public let ready: [String: Int]
    /// Jobs taken by workers and not yet acknowledged (in any worker's in-flight hash, the
    /// jobs of dead workers included until the rescuer takes them back).
    public let inFlight: Int
    /// Retries and scheduled jobs waiting for their time.
    public let delayed: Int
    /// Jobs that used their last attempt.
    public let dead: Int
    /// Workers that heartbeated within the liveness window.
    public let liveWorkers: Int
}

extension JobQueue {
    public func depths(liveWithinMilliseconds: Int = 3000) async throws -> QueueDepths {
        let base = try await redis.pipeline([
            RedisCommand("SMEMBERS", keys.queues),
            RedisCommand("ZRANGE", keys.workers, 0, -1, "WITHSCORES"),
            RedisCommand("TIME"),
        ])
        // Heartbeats are on Redis's clock (or the test's), so liveness is judged on it too.
        let now = try clock.manualMilliseconds ?? base[2].timeMilliseconds()
        let queueNames = try base[0].requireArray().compactMap(\.string).sorted()
        let workerPairs = try base[1].requireArray()
        var workers: [String] = []
        var live = 0
        for index in stride(from: 0, to: workerPairs.count - 1, by: 2) {
            guard let worker = workerPairs[index].string,
                let beat = workerPairs[index + 1].int
                    ?? workerPairs[index + 1].string.flatMap({ Double($0) }).map(Int.init)
            else { continue }
            workers.append(worker)
            if now - beat <= liveWithinMilliseconds { live += 1 }
        }
        // Per queue: its list, delayed and dead sets, and every worker's in-flight hash for it.
        let perQueue = 3 + workers.count
        var commands: [RedisCommand] = []
        for queue in queueNames {
            let queueKeys = keys.of(queue)
            commands += [RedisCommand("LLEN", queueKeys.list), RedisCommand("ZCARD", queueKeys.delayed), RedisCommand("ZCARD", queueKeys.dead)]
            commands += workers.map { RedisCommand("HLEN", queueKeys.inFlight($0)) }
        }
        let replies = commands.isEmpty ? [] : try await redis.pipeline(commands)
        var ready: [String: Int] = [:]
        var inFlight = 0
        var delayed = 0
        var dead = 0
        for (index, queue) in queueNames.enumerated() {
            let counts = try replies[(index * perQueue)..<((index + 1) * perQueue)].map { try $0.requireInt() }
            ready[queue] = counts[0]
            delayed += counts[1]
            dead += counts[2]
            inFlight += counts.dropFirst(3).reduce(0, +)
        }
        return QueueDepths(ready: ready, inFlight: inFlight, delayed: delayed, dead: dead, liveWorkers: live)
    }
}
