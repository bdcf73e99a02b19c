import Redis

// The operations a worker performs on the jobs it takes.
extension JobQueue {
    /// Takes up to `limit` jobs from the head of `queue` into `worker`'s in-flight hash.
    func fetch(queue: String, worker: String, limit: Int) async throws -> [Job] {
        let reply = try await redis.run(
            QueueScripts.fetch, keys: [keys.queue(queue), keys.inFlight(worker), keys.malformed], arguments: [limit])
        return try Self.jobs(reply)
    }

    /// Moves jobs that a blocking fetch landed for `worker` into its in-flight hash.
    func adopt(worker: String) async throws -> [Job] {
        let reply = try await redis.run(
            QueueScripts.adopt, keys: [keys.landing(worker), keys.inFlight(worker), keys.malformed])
        return try Self.jobs(reply)
    }

    /// Removes finished jobs from `worker`'s in-flight hash and releases their unique keys.
    @discardableResult
    func acknowledge(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(jobs.count * 2)
        for job in jobs {
            arguments.append(job.id)
            arguments.append(job.uniqueKey ?? "")
        }
        return try await redis.run(
            QueueScripts.acknowledge, keys: [keys.inFlight(worker), keys.unique], arguments: arguments
        ).requireInt()
    }

    /// Schedules the job's next attempt after `delayMilliseconds`; false when the job was no
    /// longer in flight (a rescuer already handed it to another worker).
    @discardableResult
    func retry(_ job: Job, worker: String, delayMilliseconds: Int) async throws -> Bool {
        try await redis.run(
            QueueScripts.retry, keys: [keys.inFlight(worker), keys.delayed],
            arguments: [job.id, job.nextAttempt().encoded, max(0, delayMilliseconds), clock.scriptArgument]
        ).requireInt() == 1
    }

    /// Moves the job to the dead set with its last error.
    @discardableResult
    func bury(_ job: Job, worker: String, error: String) async throws -> Bool {
        try await redis.run(
            QueueScripts.bury,
            keys: [keys.inFlight(worker), keys.dead, keys.deadJobs, keys.deadErrors, keys.unique],
            arguments: [job.id, job.encoded, clock.scriptArgument, error, job.uniqueKey ?? ""]
        ).requireInt() == 1
    }

    /// Hands jobs back to the front of their queues without spending an attempt.
    @discardableResult
    func release(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        var arguments: [any RedisArgument] = [keys.prefix]
        for job in jobs { arguments.append(job.id) }
        return try await redis.run(QueueScripts.release, keys: [keys.inFlight(worker)], arguments: arguments).requireInt()
    }

    func heartbeat(worker: String) async throws {
        try await redis.run(QueueScripts.heartbeat, keys: [keys.workers], arguments: [worker, clock.scriptArgument]).throwingError()
    }

    /// Removes a worker that stopped cleanly and holds nothing.
    func retire(worker: String) async throws {
        _ = try await redis.pipeline([
            RedisCommand("ZREM", keys.workers, worker),
            RedisCommand("DEL", keys.inFlight(worker), keys.landing(worker)),
        ])
    }

    static func jobs(_ reply: RedisReply) throws -> [Job] {
        try reply.requireArray().compactMap { element in
            guard case .bulk(let bytes) = element else { return nil }
            return Job(encoded: bytes)
        }
    }
}
