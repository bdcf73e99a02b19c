import Redis

/// One queue's figures for `fastest-shop jobs stats`.
public struct QueueStats: Sendable, Equatable {
    public let queue: String
    public var waiting: Int
    public var inFlight: Int
    public var delayed: Int
    public var dead: Int
}

/// A job that used its last attempt.
public struct DeadJob: Sendable {
    public let job: Job
    public let error: String
    public let diedAtMilliseconds: Int
}

extension JobQueue {
    public struct Overview: Sendable {
        public let queues: [QueueStats]
        /// Workers that heartbeated within three heartbeat intervals of the default (1 s).
        public let liveWorkers: [String]
    }

    /// Per-queue depth, in-flight, delayed and dead counts, and the live workers.
    /// Reads whole structures: an operator command, not a hot path.
    public func overview(liveWithinMilliseconds: Int = 3000) async throws -> Overview {
        let base = try await redis.pipeline([
            RedisCommand("SMEMBERS", keys.queues),
            RedisCommand("ZRANGE", keys.workers, 0, -1, "WITHSCORES"),
            RedisCommand("ZRANGE", keys.delayed, 0, -1),
            RedisCommand("HVALS", keys.deadJobs),
            RedisCommand("TIME"),
        ])
        // Heartbeats are on Redis's clock (or the test's), so liveness is judged on it too.
        let now = try clock.manualMilliseconds ?? base[4].timeMilliseconds()
        var stats: [String: QueueStats] = [:]
        func bump(_ queue: String, _ update: (inout QueueStats) -> Void) {
            var entry = stats[queue] ?? QueueStats(queue: queue, waiting: 0, inFlight: 0, delayed: 0, dead: 0)
            update(&entry)
            stats[queue] = entry
        }
        let queueNames = try base[0].requireArray().compactMap(\.string)
        let workerPairs = try base[1].requireArray()
        var workers: [String] = []
        var live: [String] = []
        for index in stride(from: 0, to: workerPairs.count - 1, by: 2) {
            guard let worker = workerPairs[index].string, let beat = workerPairs[index + 1].int
                ?? workerPairs[index + 1].string.flatMap({ Double($0) }).map(Int.init) else { continue }
            workers.append(worker)
            if now - beat <= liveWithinMilliseconds { live.append(worker) }
        }
        for element in try base[2].requireArray() {
            if case .bulk(let bytes) = element, let job = Job(encoded: bytes) { bump(job.queue) { $0.delayed += 1 } }
        }
        for element in try base[3].requireArray() {
            if case .bulk(let bytes) = element, let job = Job(encoded: bytes) { bump(job.queue) { $0.dead += 1 } }
        }
        var commands = queueNames.map { RedisCommand("LLEN", keys.queue($0)) }
        commands += workers.map { RedisCommand("HVALS", keys.inFlight($0)) }
        let replies = try await redis.pipeline(commands)
        for (index, queue) in queueNames.enumerated() {
            let depth = try replies[index].requireInt()
            bump(queue) { $0.waiting = depth }
        }
        for reply in replies.dropFirst(queueNames.count) {
            for element in try reply.requireArray() {
                if case .bulk(let bytes) = element, let job = Job(encoded: bytes) { bump(job.queue) { $0.inFlight += 1 } }
            }
        }
        return Overview(queues: stats.values.sorted { $0.queue < $1.queue }, liveWorkers: live.sorted())
    }

    /// Dead jobs, most recent first.
    public func deadJobs(limit: Int = 100) async throws -> [DeadJob] {
        let ids = try await redis.send(RedisCommand("ZREVRANGE", keys.dead, 0, limit - 1, "WITHSCORES")).requireArray()
        var pairs: [(String, Int)] = []
        for index in stride(from: 0, to: ids.count - 1, by: 2) {
            guard let id = ids[index].string, let score = ids[index + 1].string.flatMap(Double.init) else { continue }
            pairs.append((id, Int(score)))
        }
        guard !pairs.isEmpty else { return [] }
        var fetch = RedisCommand("HMGET", keys.deadJobs)
        var errors = RedisCommand("HMGET", keys.deadErrors)
        for (id, _) in pairs {
            fetch.append(id)
            errors.append(id)
        }
        let replies = try await redis.pipeline([fetch, errors])
        let envelopes = try replies[0].requireArray()
        let messages = try replies[1].requireArray()
        return pairs.indices.compactMap { index in
            guard case .bulk(let bytes) = envelopes[index], let job = Job(encoded: bytes) else { return nil }
            return DeadJob(job: job, error: messages[index].string ?? "", diedAtMilliseconds: pairs[index].1)
        }
    }

    public enum ResurrectResult: Sendable, Equatable {
        case requeued
        case notFound
        /// Another job with the same unique key waits or runs; the dead job stays dead.
        case uniqueKeyHeld
    }

    /// Re-queues a dead job as a fresh first attempt.
    public func resurrect(id: String) async throws -> ResurrectResult {
        let result = try await redis.run(
            QueueScripts.resurrect, keys: [keys.dead, keys.deadJobs, keys.deadErrors, keys.unique],
            arguments: [id, keys.prefix]
        ).requireInt()
        switch result {
        case 1: return .requeued
        case -1: return .uniqueKeyHeld
        default: return .notFound
        }
    }
}
