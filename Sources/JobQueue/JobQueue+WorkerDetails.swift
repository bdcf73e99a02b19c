import Redis

/// A worker as the console shows it: its id, its last heartbeat and the jobs it holds.
public struct WorkerDetail: Sendable {
    public let id: String
    /// Unix milliseconds, on the queue's clock (Redis's, or a test's).
    public let lastHeartbeatMilliseconds: Int
    /// Milliseconds from the last heartbeat to now, on the same clock.
    public let silentMilliseconds: Int
    public let jobsInFlight: Int
    /// Where the worker runs and when it registered (Unix ms, its host's clock); nil for a
    /// worker that registered before these were recorded.
    public let host: String?
    public let startedAtMilliseconds: Int?
}

extension JobQueue {
    /// Every worker that ever heartbeated and has not been cleaned up, most recent heartbeat first.
    public func workerDetails() async throws -> [WorkerDetail] {
        let base = try await redis.pipeline([
            RedisCommand("ZREVRANGE", keys.workers, 0, -1, "WITHSCORES"),
            RedisCommand("TIME"),
        ])
        let now = try clock.manualMilliseconds ?? base[1].timeMilliseconds()
        let pairs = try base[0].requireArray()
        var beats: [(String, Int)] = []
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            guard let id = pairs[index].string,
                let beat = pairs[index + 1].int ?? pairs[index + 1].string.flatMap(Double.init).map(Int.init)
            else { continue }
            beats.append((id, beat))
        }
        guard !beats.isEmpty else { return [] }
        // A worker holds jobs in one in-flight hash per queue.
        let queues = try await queueNames().map { keys.of($0) }
        var commands = [RedisCommand("HMGET", [keys.workerInfo] + beats.map { $0.0 as any RedisArgument })]
        for (worker, _) in beats { commands += queues.map { RedisCommand("HLEN", $0.inFlight(worker)) } }
        let replies = try await redis.pipeline(commands)
        let infos = try replies[0].requireArray()
        return try beats.enumerated().map { index, pair in
            let held = try replies[(1 + index * queues.count)..<(1 + (index + 1) * queues.count)].reduce(0) { $0 + (try $1.requireInt()) }
            let info = infos[index].string?.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            return WorkerDetail(
                id: pair.0, lastHeartbeatMilliseconds: pair.1, silentMilliseconds: max(0, now - pair.1),
                jobsInFlight: held,
                host: info.map { String($0[0]) }, startedAtMilliseconds: info.flatMap { $0.count > 1 ? Int($0[1]) : nil })
        }
    }

    /// Per queue, how many of the delayed jobs are retries of a failed attempt (the rest were
    /// enqueued to run later).
    public func retryingCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let queues = try await queueNames()
        guard !queues.isEmpty else { return counts }
        for reply in try await redis.pipeline(queues.map { RedisCommand("ZRANGE", keys.of($0).delayed, 0, -1) }) {
            for element in try reply.requireArray() {
                if case .bulk(let bytes) = element, let job = Job(encoded: bytes), job.attempt > 1 { counts[job.queue, default: 0] += 1 }
            }
        }
        return counts
    }
}
