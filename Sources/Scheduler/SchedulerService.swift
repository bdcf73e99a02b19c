import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// `fastest-shop scheduler`: exactly one active leader at a time does the periodic work.
///
/// Every scheduler process runs this service; the one holding the ``LeaderLock`` runs the
/// maintenance services (``MaintenanceService``: promoter, rescuer, drop opener and closer,
/// order and gate reconcilers), each on its own interval, one after the other; the others try
/// every tick to take over. Any work PostgreSQL says is pending but Redis does not hold is
/// enqueued again, so losing Redis's data loses no work; enqueues use unique keys and drop moves
/// are fenced by the leader's term, so overlapping leaders never do work twice.
public final class SchedulerService: Service {
    public struct Configuration: Sendable {
        /// Between a standby's attempts to take over, and at most between the leader's checks
        /// that it still holds the lock.
        public var tickMilliseconds: Int
        public var candidateName: String

        public init(tickMilliseconds: Int = 500, candidateName: String) {
            self.tickMilliseconds = tickMilliseconds
            self.candidateName = candidateName
        }
    }

    private let configuration: Configuration
    private let lock: LeaderLock
    /// Run in this order when several are due at once.
    public let maintenance: [any MaintenanceService]
    private let metrics: MaintenanceMetrics
    private let logger: Logger

    public init(configuration: Configuration, pool: PostgresPool, maintenance: [any MaintenanceService], logger: Logger) {
        self.configuration = configuration
        self.maintenance = maintenance
        self.metrics = MaintenanceMetrics(services: maintenance)
        self.lock = LeaderLock(configuration: pool.configuration, candidate: configuration.candidateName)
        var logger = logger
        logger[metadataKey: "scheduler"] = .string(configuration.candidateName)
        self.logger = logger
    }

    public func run() async throws {
        let tick = Duration.milliseconds(configuration.tickMilliseconds)
        var term: Int?
        var schedule = MaintenanceSchedule(intervals: maintenance.map(\.interval), start: .now)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var pause = tick
            do {
                if let current = term {
                    if await lock.isHeld() {
                        metrics.ticks.increment()
                        for index in schedule.due(at: .now) {
                            await runOnce(maintenance[index], term: current)
                            schedule.ran(index, endedAt: .now)
                        }
                        pause = schedule.pause(from: .now, atMost: tick)
                    } else {
                        logger.warning("lost leadership", metadata: ["term": .stringConvertible(current)])
                        term = nil
                        metrics.leader.record(0)
                    }
                } else if let acquired = try await lock.tryAcquire() {
                    term = acquired
                    // A new leader runs every service on its next pass.
                    schedule = MaintenanceSchedule(intervals: maintenance.map(\.interval), start: .now)
                    metrics.leader.record(1)
                    logger.info("became leader", metadata: ["term": .stringConvertible(acquired)])
                }
            } catch {
                logger.warning("scheduler tick failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: pause)
        }
        if term != nil { await lock.release() }
        lock.shutdown()
        logger.info("scheduler stopped")
    }

    /// One run of one service; its failure is logged and counted, and the others still run.
    private func runOnce(_ service: any MaintenanceService, term: Int) async {
        do {
            metrics.record(try await service.runOnce(term: term), of: service.name)
        } catch {
            metrics.recordFailure(of: service.name)
            logger.warning("maintenance run failed", metadata: ["service": .string(service.name), "error": "\(error)"])
        }
    }
}
