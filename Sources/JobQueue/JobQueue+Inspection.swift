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

    /// Per-queue depth, in-flight, delayed and dead counts, and the live workers: counts only, in
    /// two pipelined round trips of O(1) commands (a few per queue, one per queue and registered
    /// worker).
    public func overview(liveWithinMilliseconds: Int = 3000) async throws -> Overview {
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
        var live: [String] = []
        for index in stride(from: 0, to: workerPairs.count - 1, by: 2) {
            guard let worker = workerPairs[index].string,
                let beat = workerPairs[index + 1].int
                    ?? workerPairs[index + 1].string.flatMap({ Double($0) }).map(Int.init)
            else { continue }
            workers.append(worker)
            if now - beat <= liveWithinMilliseconds { live.append(worker) }
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
        let stats = try queueNames.enumerated().map { index, queue in
            let counts = try replies[(index * perQueue)..<((index + 1) * perQueue)].map { try $0.requireInt() }
            return QueueStats(
                queue: queue, waiting: counts[0], inFlight: counts.dropFirst(3).reduce(0, +), delayed: counts[1], dead: counts[2])
        }
        return Overview(queues: stats, liveWorkers: live.sorted())
    }

    /// Dead jobs, most recent first.
    /// (Each queue has its own dead set: the most recent `limit` of each, merged.)
    public func deadJobs(limit: Int = 100) async throws -> [DeadJob] {
        guard limit > 0 else { return [] }
        let queues = try await queueNames().map { keys.of($0) }
        guard !queues.isEmpty else { return [] }
        let lists = try await redis.pipeline(queues.map { RedisCommand("ZREVRANGE", $0.dead, 0, limit - 1, "WITHSCORES") })
        var pairs: [(queue: Int, id: String, died: Int)] = []
        for (queue, list) in lists.enumerated() {
            let ids = try list.requireArray()
            for index in stride(from: 0, to: ids.count - 1, by: 2) {
                guard let id = ids[index].string, let score = ids[index + 1].string.flatMap(Double.init) else { continue }
                pairs.append((queue, id, Int(score)))
            }
        }
        pairs = Array(pairs.sorted { $0.died > $1.died }.prefix(limit))
        guard !pairs.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        for pair in pairs {
            commands.append(RedisCommand("HGET", queues[pair.queue].deadJobs, pair.id))
            commands.append(RedisCommand("HGET", queues[pair.queue].deadErrors, pair.id))
        }
        let replies = try await redis.pipeline(commands)
        return pairs.indices.compactMap { index in
            guard case .bulk(let bytes) = replies[index * 2], let job = Job(encoded: bytes) else { return nil }
            return DeadJob(job: job, error: replies[index * 2 + 1].string ?? "", diedAtMilliseconds: pairs[index].died)
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
        guard let queueKeys = try await queueOfDeadJob(id) else { return .notFound }
        return try await resurrect(id: id, in: queueKeys)
    }

    func resurrect(id: String, in queueKeys: QueueKeys.Queue) async throws -> ResurrectResult {
        let result = try await redis.run(
            QueueScripts.resurrect,
            keys: [queueKeys.dead, queueKeys.deadJobs, queueKeys.deadErrors, queueKeys.unique, queueKeys.list],
            arguments: [id]
        ).requireInt()
        switch result {
        case 1: return .requeued
        case -1: return .uniqueKeyHeld
        default: return .notFound
        }
    }
}
