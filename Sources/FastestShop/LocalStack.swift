import CurlHTTP
import Foundation
import Intake
import JobQueue
import Logging
import MockPayments
import Observability
import OpenRunGate
import Postgres
import Redis
import Scheduler
import ServiceLifecycle
import Settings
import ShopDomain
import Storage
import TextEncodings
import Worker

/// Every role of fastest-shop in one process, for `dev` and `demo`: the intake API, the
/// scheduler, two workers and the mock payment provider, on the project's local PostgreSQL and
/// Redis. Production runs each role as its own process; here one `ServiceGroup` runs them all and
/// stops them all, in order, on Ctrl-C.
struct LocalStack {
    let settings: ShopSettings
    let intake: IntakeService
    let services: [any Service]
    let apiURL: String
    let paymentsURL: String
    /// The workers' and scheduler's Prometheus metrics (one endpoint: they share this process;
    /// the intake's own are at `apiURL/metrics`).
    let metricsURL: String
    let pool: PostgresPool
    let redis: RedisClient
    /// The demo's own requests to the API.
    let http: CurlHTTPClient
    let worker: WorkerRole
    /// The local PostgreSQL/Redis this stack started, stopped by ``shutdown()``.
    let startedServices: StartedLocalServices?
    let providerRates: ProviderRates

    /// How the mock payment provider answers charges.
    struct ProviderRates: Sendable {
        var declineRate = 0.2
        var errorRate = 0.05
        var pendingRate = 0.1
        /// Of the pending charges, the share whose callback says "succeeded".
        var pendingSuccessRate = 0.7
    }

    /// Builds the stack. `apiPort`/`paymentsPort`/`metricsPort` 0 pick free ports. Bootstraps the
    /// process's metrics system, so call it once per process. Local services it starts
    /// are stopped by ``shutdown()`` (and by their watchdog if this process is killed) unless
    /// `keepServices`.
    static func make(
        options: SettingsOptions, apiPort: Int, paymentsPort: Int, metricsPort: Int, keepServices: Bool = false,
        providerRates: ProviderRates = ProviderRates(), logger: Logger
    ) async throws -> LocalStack {
        let api = apiPort == 0 ? try freePort() : apiPort
        let payments = paymentsPort == 0 ? try freePort() : paymentsPort
        let metrics = metricsPort == 0 ? try freePort() : metricsPort
        // Secrets for this session only: nothing to configure, nothing to leak.
        let (settings, startedServices) = try await options.loadStartingLocalServicesReporting(
            [
                "http.port": String(api),
                "payments.url": "http://127.0.0.1:\(payments)/v1/charges",
                "auth.jwt_secret": randomSecret(),
                "payments.secret": randomSecret(),
                "payments.callback_secret": randomSecret(),
                // A brisk scheduler: drops open and close within a fifth of a second, reconciled
                // every two (the defaults' one to ten).
                "scheduler.tick_ms": "200",
                "scheduler.promoter_interval_ms": "200",
                "scheduler.rescuer_interval_ms": "200",
                "scheduler.drop_opener_interval_ms": "200",
                "scheduler.drop_closer_interval_ms": "200",
                "scheduler.order_reconciler_interval_ms": "2000",
                "scheduler.gate_reconciler_interval_ms": "2000",
                // Every client of a local stack (the demo's rush of buyers included) is this machine.
                "http.max_connections_per_address": "1000000",
            ], keepServices: keepServices)
        // Metrics first, as in `worker` and `scheduler`: a metric created before the bootstrap
        // (the workers' and the scheduler's are made below) would report nowhere.
        let metricsEndpoint = MetricsEndpoint.bootstrap(host: "127.0.0.1", port: metrics, logger: logger)
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 4, name: "stack-pg")
        try await Migrator().migrate(pool)
        let redis = RedisClient(configuration: settings.redisConfiguration, connections: settings.redis.connections)
        let catalog = try ProcessSetup.loadCatalog(settings)
        let queue = ProcessSetup.jobQueue(settings, redis: redis, catalog: catalog)
        let gate = AdmissionGate(redis: redis, keyPrefix: settings.redis.keyPrefix)

        let intake = try await IntakeService(settings: settings, logger: logger)
        let provider = try MockPaymentProvider(
            configuration: MockPaymentsConfiguration(
                port: payments, secret: settings.payments.secret, callbackSecret: settings.payments.callbackSecret,
                latencyMilliseconds: 30, latencyJitterMilliseconds: 20, declineRate: providerRates.declineRate,
                errorRate: providerRates.errorRate, pendingRate: providerRates.pendingRate,
                callbackURL: "http://127.0.0.1:\(api)/v1/payments/callback", callbackDelayMilliseconds: 300,
                pendingSuccessRate: providerRates.pendingSuccessRate),
            logger: logger)
        var workerConfiguration = try WorkerRole.Configuration(settings: settings)
        workerConfiguration.worker.concurrency = 16
        workerConfiguration.worker.heartbeatMilliseconds = 500
        workerConfiguration.worker.shutdownGraceSeconds = 5
        let worker = WorkerRole(
            configuration: workerConfiguration, pool: pool, redis: redis, queue: queue, gate: gate, httpName: "stack-payments")
        let workers = (0..<2).map { _ in worker.makeWorker(logger: logger) }
        let scheduler = SchedulerRole(
            settings: settings, pool: pool, redis: redis, queue: queue, candidateName: "local-\(getpid())", logger: logger)
        // The showcase's own requests (the demo's buyers and operator).
        let http = CurlHTTPClient(name: "stack-http")
        return LocalStack(
            settings: settings, intake: intake,
            // Stopped in reverse: workers and scheduler first, the API, the provider and the
            // metrics endpoint last.
            services: [metricsEndpoint, provider, try intake.makeApplication(), scheduler.service] + workers,
            apiURL: "http://127.0.0.1:\(api)", paymentsURL: "http://127.0.0.1:\(payments)",
            metricsURL: "http://127.0.0.1:\(metrics)/metrics", pool: pool, redis: redis, http: http, worker: worker,
            startedServices: startedServices, providerRates: providerRates)
    }

    func shutdown() async {
        http.shutdown()
        worker.shutdown()
        redis.shutdown()
        await pool.shutdown()
        startedServices?.stop()
    }

    /// Waits until the API answers `/readyz`.
    func waitUntilReady() async throws {
        let client = CurlHTTPClient(name: "stack-ready")
        defer { client.shutdown() }
        for _ in 0..<200 {
            if let response = try? await client.execute(HTTPRequest(url: apiURL + "/readyz", timeoutMilliseconds: 1000)),
                response.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CommandFailure(message: "the intake API did not become ready at \(apiURL)")
    }

    private static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.lowercaseHex
    }

    /// A port nobody listens on right now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw CommandFailure(message: "cannot open a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw CommandFailure(message: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
