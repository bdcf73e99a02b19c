import JobQueue
import Logging
import OpenRunGate
import Postgres
import Redis
import Settings

/// The scheduler role, built in one place from the settings and the stores for `fastest-shop
/// scheduler` and the scheduler of `dev` and `demo`: the leader election and its named
/// maintenance services, each on its own interval (`scheduler.*_interval_ms`).
public struct SchedulerRole: Sendable {
    /// The service to run in the process's `ServiceGroup`.
    public let service: SchedulerService

    /// `candidateName` names this process in `scheduler_leadership` (host and pid in production).
    public init(
        settings: ShopSettings, pool: PostgresPool, redis: RedisClient, queue: JobQueue, candidateName: String, logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "scheduler"] = .string(candidateName)
        let hooks = OpenRunGateHooks(pool: pool, gate: AdmissionGate(redis: redis, keyPrefix: settings.redis.keyPrefix))
        let intervals = settings.maintenance
        // In this order when several are due at once: jobs promoted and rescued first, then
        // drops moved, then the repairs (as the single tick did them).
        let maintenance: [any MaintenanceService] = [
            JobPromoter(queue: queue, interval: .milliseconds(intervals.promoterMilliseconds)),
            JobRescuer(queue: queue, interval: .milliseconds(intervals.rescuerMilliseconds), logger: logger),
            DropOpener(pool: pool, hooks: hooks, interval: .milliseconds(intervals.dropOpenerMilliseconds), logger: logger),
            DropCloser(pool: pool, queue: queue, hooks: hooks, interval: .milliseconds(intervals.dropCloserMilliseconds), logger: logger),
            OrderReconciler(pool: pool, queue: queue, interval: .milliseconds(intervals.orderReconcilerMilliseconds), logger: logger),
            GateReconciler(hooks: hooks, interval: .milliseconds(intervals.gateReconcilerMilliseconds)),
        ]
        service = SchedulerService(
            configuration: .init(tickMilliseconds: settings.schedulerTickMilliseconds, candidateName: candidateName),
            pool: pool, maintenance: maintenance, logger: logger)
    }
}
