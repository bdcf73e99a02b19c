import Redis

// The operations a worker performs on the jobs it takes.
extension JobQueue {
    /// Takes up to `limit` jobs from the head of `queue` into `worker`'s in-flight hash.
    func fetch(queue: String, worker: String, limit: Int) async throws -> [Job] {
        let reply = try await redis.run(
            QueueScripts.fetch, keys: [keys.queue(queue), keys.inFlight(worker), keys.malformed, keys.deadlines],
            arguments: takingArguments(worker: worker, limit: limit))
        return try Self.jobs(reply)
    }

    /// Moves jobs that a blocking fetch landed for `worker` into its in-flight hash.
    func adopt(worker: String) async throws -> [Job] {
        let reply = try await redis.run(
            QueueScripts.adopt, keys: [keys.landing(worker), keys.inFlight(worker), keys.malformed, keys.deadlines],
            arguments: takingArguments(worker: worker, limit: 0))
        return try Self.jobs(reply)
    }

    /// After a taking call that failed or went unanswered: adopts whatever is still landed and
    /// returns every job in `worker`'s in-flight hash (the worker sorts out those it knows of).
    func recover(worker: String) async throws -> [Job] {
        let reply = try await redis.run(
            QueueScripts.recover, keys: [keys.landing(worker), keys.inFlight(worker), keys.malformed, keys.deadlines],
            arguments: takingArguments(worker: worker, limit: 0))
        return try Self.jobs(reply)
    }

    /// The taking scripts' arguments: each kind's in-flight deadline, and the longest of them for
    /// a kind this catalog does not know (its job is then buried by the worker at once anyway).
    private func takingArguments(worker: String, limit: Int) -> [any RedisArgument] {
        var arguments: [any RedisArgument] = [limit, clock.scriptArgument, worker]
        let definitions = catalog.definitions.values
        arguments.append(definitions.map(\.inFlightDeadlineMilliseconds).max() ?? 600_000)
        for definition in definitions {
            arguments.append(definition.kind)
            arguments.append(definition.inFlightDeadlineMilliseconds)
        }
        return arguments
    }

    /// Removes finished jobs from `worker`'s in-flight hash and releases their unique keys.
    @discardableResult
    func acknowledge(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        var arguments: [any RedisArgument] = [worker, clock.scriptArgument, keys.prefix + "stats:processed:"]
        arguments.reserveCapacity(jobs.count * 3 + 3)
        for job in jobs {
            arguments.append(job.id)
            arguments.append(job.uniqueKey ?? "")
            arguments.append(job.queue)
        }
        return try await redis.run(
            QueueScripts.acknowledge, keys: [keys.inFlight(worker), keys.unique, keys.deadlines], arguments: arguments
        ).requireInt()
    }

    /// Schedules the job's next attempt after `delayMilliseconds`; false when the job was no
    /// longer in flight (a rescuer already handed it to another worker).
    @discardableResult
    func retry(_ job: Job, worker: String, delayMilliseconds: Int) async throws -> Bool {
        try await redis.run(
            QueueScripts.retry, keys: [keys.inFlight(worker), keys.delayed, keys.deadlines],
            arguments: [job.id, job.nextAttempt().encoded, max(0, delayMilliseconds), clock.scriptArgument, worker,
                        keys.stats("failed", queue: job.queue)]
        ).requireInt() == 1
    }

    /// Moves the job to the dead set with its last error.
    @discardableResult
    func bury(_ job: Job, worker: String, error: String) async throws -> Bool {
        try await redis.run(
            QueueScripts.bury,
            keys: [keys.inFlight(worker), keys.dead, keys.deadJobs, keys.deadErrors, keys.unique, keys.deadlines],
            arguments: [job.id, job.encoded, clock.scriptArgument, error, job.uniqueKey ?? "", worker,
                        keys.stats("failed", queue: job.queue)]
        ).requireInt() == 1
    }

    /// Hands jobs back to the front of their queues without spending an attempt.
    @discardableResult
    func release(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        var arguments: [any RedisArgument] = [keys.prefix, worker]
        for job in jobs { arguments.append(job.id) }
        return try await redis.run(
            QueueScripts.release, keys: [keys.inFlight(worker), keys.deadlines], arguments: arguments
        ).requireInt()
    }

    /// Records where and when a worker started (for the console), then its first heartbeat.
    func register(worker: String, host: String) async throws {
        _ = try await redis.send(RedisCommand("HSET", keys.workerInfo, worker, "\(host)|\(clock.localMilliseconds)"))
        try await heartbeat(worker: worker)
    }

    func heartbeat(worker: String) async throws {
        try await redis.run(QueueScripts.heartbeat, keys: [keys.workers], arguments: [worker, clock.scriptArgument]).throwingError()
    }

    /// Deregisters a worker that stopped, handing back to their queues the jobs still in its
    /// in-flight hash or landing list; returns how many it handed back.
    @discardableResult
    func retire(worker: String) async throws -> Int {
        try await redis.run(
            QueueScripts.retire, keys: [keys.workers, keys.inFlight(worker), keys.landing(worker), keys.deadlines],
            arguments: [keys.prefix, worker]
        ).requireInt()
    }

    static func jobs(_ reply: RedisReply) throws -> [Job] {
        try reply.requireArray().compactMap { element in
            guard case .bulk(let bytes) = element else { return nil }
            return Job(encoded: bytes)
        }
    }
}
