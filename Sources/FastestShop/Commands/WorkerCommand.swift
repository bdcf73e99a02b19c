import ArgumentParser
import JobQueue
import Observability
import OpenRunGate
import Postgres
import Redis
import ServiceLifecycle
import Settings
import Worker

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs: draws, charges, expiries (any number of worker processes).")

    @OptionGroup var settings: SettingsOptions

    @Option(help: "Jobs this process runs at once (worker.concurrency).")
    var concurrency: Int?

    @Option(help: "Comma-separated queues to take jobs from (worker.queues).")
    var queues: String?

    func run() async throws {
        var flags: [String: String] = [:]
        if let concurrency { flags["worker.concurrency"] = String(concurrency) }
        if let queues { flags["worker.queues"] = queues }
        let settings = try await settings.load(flags)
        let logger = ProcessSetup.logger(settings)
        // Metrics first: a metric created before the bootstrap would report nowhere.
        var services: [any Service] = []
        if settings.worker.metricsPort > 0 {
            services.append(MetricsEndpoint.bootstrap(host: settings.http.host, port: settings.worker.metricsPort, logger: logger))
        }
        let catalog = try ProcessSetup.loadCatalog(settings)
        for queue in settings.worker.queues where !catalog.queues.contains(queue) {
            throw CommandFailure(message: "worker: no job kind in \(settings.jobCatalogDirectory) uses queue '\(queue)'", exitCode: 2)
        }
        let redis = RedisClient(configuration: settings.redisConfiguration, connections: settings.redis.connections)
        defer { redis.shutdown() }
        let queue = ProcessSetup.jobQueue(settings, redis: redis, catalog: catalog)
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: settings.postgres.poolSize, name: "worker-pg")
        let role = WorkerRole(
            configuration: try WorkerRole.Configuration(settings: settings), pool: pool, redis: redis, queue: queue,
            gate: AdmissionGate(redis: redis, keyPrefix: settings.redis.keyPrefix))
        defer { role.shutdown() }
        let worker = role.makeWorker(logger: logger)
        services.append(worker)
        try await ProcessSetup.run(services, logger: logger)
        await pool.shutdown()
    }
}
