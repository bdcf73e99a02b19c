import Redis

// The operations a worker performs on the jobs it takes.
extension JobQueue {
    /// Takes up to `limit` jobs from the head of `queue` into `worker`'s in-flight hash.
    func fetch(queue: String, worker: String, limit: Int) async throws -> [Job] {
        let queueKeys = keys.of(queue)
        let reply = try await redis.run(
            QueueScripts.fetch, keys: [queueKeys.list, queueKeys.inFlight(worker), queueKeys.malformed, queueKeys.deadlines],
            arguments: takingArguments(worker: worker, limit: limit))
        return try Self.jobs(reply)
    }

    /// Moves jobs that a blocking fetch from `queue` landed for `worker` into its in-flight hash.
    func adopt(queue: String, worker: String) async throws -> [Job] {
        let queueKeys = keys.of(queue)
        let reply = try await redis.run(
            QueueScripts.adopt, keys: [queueKeys.landing(worker), queueKeys.inFlight(worker), queueKeys.malformed, queueKeys.deadlines],
            arguments: takingArguments(worker: worker, limit: 0))
        return try Self.jobs(reply)
    }

    /// After a taking call on `queue` that failed or went unanswered: adopts whatever is still
    /// landed and returns every job in `worker`'s in-flight hash of that queue (the worker sorts
    /// out those it knows of).
    func recover(queue: String, worker: String) async throws -> [Job] {
        let queueKeys = keys.of(queue)
        let reply = try await redis.run(
            QueueScripts.recover, keys: [queueKeys.landing(worker), queueKeys.inFlight(worker), queueKeys.malformed, queueKeys.deadlines],
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

    /// Removes finished jobs from `worker`'s in-flight hashes and releases their unique keys:
    /// one script per queue (a batch nearly always holds one), all in one round trip.
    @discardableResult
    func acknowledge(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        let calls = Dictionary(grouping: jobs, by: \.queue).map { queue, jobs in
            let queueKeys = keys.of(queue)
            var arguments: [any RedisArgument] = [worker, clock.scriptArgument, queueKeys.stem + "stats:processed:"]
            arguments.reserveCapacity(jobs.count * 3 + 3)
            for job in jobs {
                arguments.append(job.id)
                arguments.append(job.uniqueKey ?? "")
                arguments.append(job.queue)
            }
            return (keys: [queueKeys.inFlight(worker), queueKeys.unique, queueKeys.deadlines], arguments: arguments)
        }
        return try await redis.runAll(QueueScripts.acknowledge, calls: calls).reduce(0) { $0 + (try $1.requireInt()) }
    }

    /// Schedules the job's next attempt after `delayMilliseconds`; false when the job was no
    /// longer in flight (a rescuer already handed it to another worker).
    @discardableResult
    func retry(_ job: Job, worker: String, delayMilliseconds: Int) async throws -> Bool {
        let queueKeys = keys.of(job.queue)
        return try await redis.run(
            QueueScripts.retry, keys: [queueKeys.inFlight(worker), queueKeys.delayed, queueKeys.deadlines],
            arguments: [
                job.id, job.nextAttempt().encoded, max(0, delayMilliseconds), clock.scriptArgument, worker,
                queueKeys.stats("failed"),
            ]
        ).requireInt() == 1
    }

    /// Moves the job to the dead set with its last error.
    @discardableResult
    func bury(_ job: Job, worker: String, error: String) async throws -> Bool {
        let queueKeys = keys.of(job.queue)
        return try await redis.run(
            QueueScripts.bury,
            keys: [
                queueKeys.inFlight(worker), queueKeys.dead, queueKeys.deadJobs, queueKeys.deadErrors, queueKeys.unique,
                queueKeys.deadlines,
            ],
            arguments: [
                job.id, job.encoded, clock.scriptArgument, error, job.uniqueKey ?? "", worker,
                queueKeys.stats("failed"),
            ]
        ).requireInt() == 1
    }

    /// Hands jobs back to the front of their queues without spending an attempt.
    @discardableResult
    func release(_ jobs: [Job], worker: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        let calls = Dictionary(grouping: jobs, by: \.queue).map { queue, jobs in
            let queueKeys = keys.of(queue)
            var arguments: [any RedisArgument] = [worker]
            for job in jobs { arguments.append(job.id) }
            return (keys: [queueKeys.inFlight(worker), queueKeys.deadlines, queueKeys.list, queueKeys.malformed], arguments: arguments)
        }
        return try await redis.runAll(QueueScripts.release, calls: calls).reduce(0) { $0 + (try $1.requireInt()) }
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
    /// in-flight hashes or landing lists (of `queues`, the ones it consumed, and of every queue
    /// known: a job may have been taken for it by hand); returns how many it handed back. The
    /// worker is deregistered only once every queue is handed back: should this fail midway,
    /// the worker stays registered and the rescuer takes back the rest.
    @discardableResult
    func retire(worker: String, queues: [String] = []) async throws -> Int {
        let calls = Set(queues).union(try await queueNames()).sorted().map { queue in
            let queueKeys = keys.of(queue)
            return (
                keys: [
                    queueKeys.inFlight(worker), queueKeys.landing(worker), queueKeys.deadlines, queueKeys.list,
                    queueKeys.malformed,
                ],
                arguments: [worker] as [any RedisArgument]
            )
        }
        let handed = calls.isEmpty ? 0 : try await redis.runAll(QueueScripts.retire, calls: calls).reduce(0) { $0 + (try $1.requireInt()) }
        for reply in try await redis.pipeline([
            RedisCommand("ZREM", keys.workers, worker), RedisCommand("HDEL", keys.workerInfo, worker),
        ]) { try reply.throwingError() }
        return handed
    }

    static func jobs(_ reply: RedisReply) throws -> [Job] {
        try reply.requireArray().compactMap { element in
            guard case .bulk(let bytes) = element else { return nil }
            return Job(encoded: bytes)
        }
    }
}
