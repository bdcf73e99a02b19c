import ArgumentParser
import Foundation
import JobQueue
import Observability
import Postgres
import Redis
import Scheduler
import ServiceLifecycle
import Settings

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Open and close drops on time, maintain the job queues, reconcile Redis with PostgreSQL (one active leader; run standbys freely).")

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let settings = try await settings.load()
        let logger = ProcessSetup.logger(settings)
        // Metrics first: a metric created before the bootstrap would report nowhere.
        var services: [any Service] = []
        if settings.schedulerMetricsPort > 0 {
            services.append(MetricsEndpoint.bootstrap(host: settings.http.host, port: settings.schedulerMetricsPort, logger: logger))
        }
        let catalog = try ProcessSetup.loadCatalog(settings)
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 2, name: "scheduler-pg")
        let redis = RedisClient(configuration: settings.redisConfiguration, connections: 1)
        defer { redis.shutdown() }
        let queue = ProcessSetup.jobQueue(settings, redis: redis, catalog: catalog)
        let scheduler = SchedulerRole(
            settings: settings, pool: pool, redis: redis, queue: queue,
            candidateName: "\(ProcessInfo.processInfo.hostName)-\(getpid())", logger: logger)
        services.append(scheduler.service)
        try await ProcessSetup.run(services, logger: logger)
        await pool.shutdown()
    }
}
