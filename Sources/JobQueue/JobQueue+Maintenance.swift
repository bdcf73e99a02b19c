import Redis

// Maintenance, run by the scheduler's leader each tick: one script per queue (each on its
// queue's slot), all queues in one round trip.
extension JobQueue {
    /// Every queue name ever enqueued to (``QueueKeys/queues``) and every queue of the catalog,
    /// sorted: the queues whose keys maintenance and listings look at.
    func queueNames() async throws -> [String] {
        let known = try await redis.send(RedisCommand("SMEMBERS", keys.queues)).requireArray().compactMap(\.string)
        return Set(known).union(catalog.queues).sorted()
    }

    /// Moves delayed jobs whose time has come to the tail of their queues; returns how many.
    @discardableResult
    public func promoteDueJobs(limit: Int = 10_000) async throws -> Int {
        let calls = try await queueNames().map { queue in
            let queueKeys = keys.of(queue)
            return (
                keys: [queueKeys.delayed, queueKeys.list, queueKeys.malformed],
                arguments: [clock.scriptArgument, limit] as [any RedisArgument]
            )
        }
        guard !calls.isEmpty else { return 0 }
        return try await redis.runAll(QueueScripts.promote, calls: calls).reduce(0) { $0 + (try $1.requireInt()) }
    }

    /// Gives the jobs of workers that stopped heartbeating back to their queues once each job's
    /// visibility timeout has passed since the last heartbeat, and every job whose in-flight
    /// deadline has passed (``JobDefinition/inFlightDeadlineMilliseconds``), heartbeats or not.
    /// A worker silent for an hour that holds nothing in any queue is deregistered.
    @discardableResult
    public func rescueOrphanedJobs() async throws -> (rescued: Int, buried: Int) {
        let shortestVisibility = catalog.definitions.values.map { Int($0.visibilityTimeoutSeconds * 1000) }.min() ?? 1000
        let base = try await redis.pipeline([
            RedisCommand("SMEMBERS", keys.queues), RedisCommand("ZRANGE", keys.workers, 0, -1, "WITHSCORES"),
        ])
        let queues = Set(try base[0].requireArray().compactMap(\.string)).union(catalog.queues).sorted()
        guard !queues.isEmpty else { return (0, 0) }
        // The heartbeats go to every queue's script as arguments: the workers zset is in another
        // slot than the queues' keys.
        var heartbeats: [(worker: String, beat: String)] = []
        let pairs = try base[1].requireArray()
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            if let worker = pairs[index].string, let beat = pairs[index + 1].string { heartbeats.append((worker, beat)) }
        }
        var arguments: [any RedisArgument] = [clock.scriptArgument, "", shortestVisibility, 3_600_000, 10_000]
        for (worker, beat) in heartbeats {
            arguments.append(worker)
            arguments.append(beat)
        }
        let calls = queues.map { queue in
            let queueKeys = keys.of(queue)
            var queueArguments = arguments
            queueArguments[1] = queueKeys.stem
            return (
                keys: [
                    queueKeys.dead, queueKeys.deadJobs, queueKeys.deadErrors, queueKeys.unique, queueKeys.deadlines,
                    queueKeys.list, queueKeys.malformed,
                ],
                arguments: queueArguments
            )
        }
        var rescued = 0
        var buried = 0
        var idleEverywhere: Set<String>?
        for reply in try await redis.runAll(QueueScripts.rescue, calls: calls) {
            let parts = try reply.throwingError().requireArray()
            rescued += parts.first?.int ?? 0
            buried += parts.dropFirst().first?.int ?? 0
            let idle = Set(try parts.dropFirst(2).first?.requireArray().compactMap(\.string) ?? [])
            idleEverywhere = idleEverywhere.map { $0.intersection(idle) } ?? idle
        }
        let forget = heartbeats.filter { idleEverywhere?.contains($0.worker) == true }
        if !forget.isEmpty {
            for reply in try await redis.runAll(
                QueueScripts.forget,
                calls: forget.map {
                    (keys: [keys.workers, keys.workerInfo], arguments: [$0.worker, $0.beat] as [any RedisArgument])
                })
            { try reply.throwingError() }
        }
        return (rescued, buried)
    }

    /// Whether a job holding `uniqueKey` is waiting, delayed or running, in any queue of the
    /// catalog. (Unique keys are held per queue, in the queue's slot.)
    public func isHeld(uniqueKey: String) async throws -> Bool {
        let queues = catalog.queues
        guard !queues.isEmpty else { return false }
        return try await redis.pipeline(queues.map { RedisCommand("HEXISTS", keys.of($0).unique, uniqueKey) })
            .contains { try $0.requireInt() == 1 }
    }
}
