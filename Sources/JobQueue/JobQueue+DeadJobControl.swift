import Redis

/// What an operator does with dead jobs besides re-queueing one (``JobQueue/resurrect(id:)``):
/// throw one away, re-queue them all, or empty the dead set — Sidekiq's Delete, Retry all and
/// Purge.
extension JobQueue {
    /// Removes one dead job for good. False when no dead job has this id.
    public func deleteDead(id: String) async throws -> Bool {
        guard let queueKeys = try await queueOfDeadJob(id) else { return false }
        return try await redis.run(
            Self.deleteDeadScript, keys: [queueKeys.dead, queueKeys.deadJobs, queueKeys.deadErrors], arguments: [id]
        ).requireInt() == 1
    }

    /// Removes every dead job; returns how many there were.
    public func purgeDead() async throws -> Int {
        let calls = try await queueNames().map { queue in
            let queueKeys = keys.of(queue)
            return (keys: [queueKeys.dead, queueKeys.deadJobs, queueKeys.deadErrors], arguments: [] as [any RedisArgument])
        }
        guard !calls.isEmpty else { return 0 }
        return try await redis.runAll(Self.purgeDeadScript, calls: calls).reduce(0) { $0 + (try $1.requireInt()) }
    }

    /// The keys of the queue whose dead set holds `id`, if any.
    func queueOfDeadJob(_ id: String) async throws -> QueueKeys.Queue? {
        let queues = try await queueNames().map { keys.of($0) }
        guard !queues.isEmpty else { return nil }
        let replies = try await redis.pipeline(queues.map { RedisCommand("HEXISTS", $0.deadJobs, id) })
        return try zip(queues, replies).first { try $0.1.requireInt() == 1 }?.0
    }

    /// Re-queues every dead job (each as ``resurrect(id:)`` does); returns how many were
    /// re-queued. A job whose unique key is held by a live job stays dead.
    public func retryAllDead() async throws -> Int {
        var requeued = 0
        for queue in try await queueNames() {
            let queueKeys = keys.of(queue)
            while true {
                let ids = try await redis.send(RedisCommand("ZRANGE", queueKeys.dead, 0, 99)).requireArray().compactMap(\.string)
                var progress = false
                for id in ids where try await resurrect(id: id, in: queueKeys) == .requeued {
                    requeued += 1
                    progress = true
                }
                // Next queue when nothing moved: what is left is held by unique keys.
                if ids.count < 100 || !progress { break }
            }
        }
        return requeued
    }

    // One script each, so that the sorted set and the two hashes never disagree.
    static let deleteDeadScript = RedisScript(
        """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        return 1
        """)

    static let purgeDeadScript = RedisScript(
        """
        local count = redis.call('ZCARD', KEYS[1])
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        return count
        """)
}
