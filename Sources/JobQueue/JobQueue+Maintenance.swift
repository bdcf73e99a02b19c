import Redis

// Maintenance, run by the scheduler's leader each tick.
extension JobQueue {
    /// Moves delayed jobs whose time has come to the tail of their queues; returns how many.
    @discardableResult
    public func promoteDueJobs(limit: Int = 10_000) async throws -> Int {
        try await redis.run(
            QueueScripts.promote, keys: [keys.delayed],
            arguments: [clock.scriptArgument, limit, keys.prefix]
        ).requireInt()
    }

    /// Gives the jobs of workers that stopped heartbeating back to their queues once each job's
    /// visibility timeout has passed since the last heartbeat, and every job whose in-flight
    /// deadline has passed (``JobDefinition/inFlightDeadlineMilliseconds``), heartbeats or not.
    @discardableResult
    public func rescueOrphanedJobs() async throws -> (rescued: Int, buried: Int) {
        let shortestVisibility = catalog.definitions.values.map { Int($0.visibilityTimeoutSeconds * 1000) }.min() ?? 1000
        let reply = try await redis.run(
            QueueScripts.rescue,
            keys: [keys.workers, keys.dead, keys.deadJobs, keys.deadErrors, keys.unique, keys.deadlines],
            arguments: [clock.scriptArgument, keys.prefix, shortestVisibility, 3_600_000, 10_000]
        ).requireArray()
        return (reply.first?.int ?? 0, reply.dropFirst().first?.int ?? 0)
    }

    /// Whether a job holding `uniqueKey` is waiting, delayed or running.
    public func isHeld(uniqueKey: String) async throws -> Bool {
        try await redis.send(RedisCommand("HEXISTS", keys.unique, uniqueKey)).requireInt() == 1
    }
}
