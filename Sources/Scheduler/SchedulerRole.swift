import JobQueue
import Logging
import OpenRunGate
import Postgres
import Redis
import Settings

/// The scheduler role, built in one place from the settings and the stores for `fastest-shop
/// scheduler` and the scheduler of `dev` and `demo`: the leader election, its periodic work, and
/// the open-run gates it keeps in step with PostgreSQL.
public struct SchedulerRole: Sendable {
    /// The service to run in the process's `ServiceGroup`.
    public let service: SchedulerService

    /// `candidateName` names this process in `scheduler_leadership` (host and pid in production).
    public init(
        settings: ShopSettings, pool: PostgresPool, redis: RedisClient, queue: JobQueue, candidateName: String, logger: Logger
    ) {
        service = SchedulerService(
            configuration: .init(tickMilliseconds: settings.schedulerTickMilliseconds, candidateName: candidateName),
            pool: pool, queue: queue,
            hooks: OpenRunGateHooks(pool: pool, gate: AdmissionGate(redis: redis, keyPrefix: settings.redis.keyPrefix)),
            logger: logger)
    }
}
