import Redis

/// The queues' sizes for the metrics sampler: counts only, in two pipelined round trips of
/// O(1) commands (one per queue and per registered worker), unlike ``JobQueue/overview(liveWithinMilliseconds:)``,
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
            RedisCommand("ZCARD", keys.delayed),
            RedisCommand("ZCARD", keys.dead),
            RedisCommand("TIME"),
        ])
        // Heartbeats are on Redis's clock (or the test's), so liveness is judged on it too.
        let now = try clock.manualMilliseconds ?? base[4].timeMilliseconds()
        let queueNames = try base[0].requireArray().compactMap(\.string).sorted()
        let workerPairs = try base[1].requireArray()
        var workers: [String] = []
        var live = 0
        for index in stride(from: 0, to: workerPairs.count - 1, by: 2) {
            guard let worker = workerPairs[index].string, let beat = workerPairs[index + 1].int
                ?? workerPairs[index + 1].string.flatMap({ Double($0) }).map(Int.init) else { continue }
            workers.append(worker)
            if now - beat <= liveWithinMilliseconds { live += 1 }
        }
        let replies = try await redis.pipeline(
            queueNames.map { RedisCommand("LLEN", keys.queue($0)) } + workers.map { RedisCommand("HLEN", keys.inFlight($0)) })
        var ready: [String: Int] = [:]
        for (index, queue) in queueNames.enumerated() { ready[queue] = try replies[index].requireInt() }
        let inFlight = try replies.dropFirst(queueNames.count).reduce(0) { $0 + (try $1.requireInt()) }
        return QueueDepths(
            ready: ready, inFlight: inFlight, delayed: try base[2].requireInt(), dead: try base[3].requireInt(), liveWorkers: live)
    }
}
