import CoreMetrics
import Foundation
import Hummingbird
import JobQueue
import Logging
import NIOCore
import OpenRunGate
import Postgres
import Redis
import ServiceLifecycle
import Settings
import ShopJobs
import Storage

/// The intake API (`fastest-shop serve`): builds every part from the settings and hands out a
/// Hummingbird application that runs in-process (tests, benchmarks, on port 0 if asked) or as
/// the `serve` role inside a ServiceGroup.
public struct IntakeService: Sendable {
    public let settings: ShopSettings
    public let logger: Logger
    public let metrics: IntakeMetrics
    public let pool: PostgresPool
    /// Public reads (audit bundles, products, drops, drop listings) borrow only from this small
    /// pool, so however many arrive they never take the connections entries and purchases need.
    public let publicPool: PostgresPool
    let readinessMonitor: ReadinessMonitor
    public let redis: RedisClient
    public let tokens: AccessTokens
    public let passwords: PasswordHasher
    let entryWriter: EntryWriter
    let productCache: ProductCache
    /// Product and drop documents kept in this process, dropped on any instance's write.
    let localReads: CacheInvalidations
    /// The API's (and the console's) per-address and per-customer limits, shared through Redis.
    let apiLimits: SharedRateLimiter
    /// The payment callback's own per-address limit, apart from API clients' limit.
    let callbackLimits: SharedRateLimiter
    /// Enqueues charges of purchases and the work that follows a payment callback.
    public let queue: JobQueue
    /// The open-run admission gate, and the group commit that confirms admitted purchases.
    public let gate: AdmissionGate
    let gateLoader: GateLoader
    let purchaseConfirmations: GroupCommitWriter<PurchaseStore.Request, PurchaseStore.Result>
    /// Open connections per client address (``ConnectionGuard``).
    let connections: ConnectionCounter
    /// The operator console's templates, parsed once.
    let consolePages: ConsolePages

    public init(settings: ShopSettings, logger: Logger, metrics: IntakeMetrics = IntakeMetrics()) async throws {
        try settings.require("auth.jwt_secret", settings.auth.jwtSecret)
        try settings.require("payments.callback_secret", settings.payments.callbackSecret)
        let catalog = try JobCatalog.load(directory: settings.jobCatalogDirectory)
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        let acquireTimeout = Duration.milliseconds(settings.postgres.acquireTimeoutMilliseconds)
        pool = PostgresPool(
            configuration: settings.requestPostgresConfiguration, size: settings.postgres.poolSize, name: "intake-pg",
            acquireTimeout: acquireTimeout)
        publicPool = PostgresPool(
            configuration: settings.requestPostgresConfiguration, size: settings.postgres.publicPoolSize, name: "public-pg",
            acquireTimeout: acquireTimeout)
        redis = RedisClient(configuration: settings.redisConfiguration, connections: settings.redis.connections, name: "intake-redis")
        readinessMonitor = ReadinessMonitor(postgres: settings.requestPostgresConfiguration, redis: redis)
        let users = UserStore(pool: pool)
        tokens = await AccessTokens(
            secret: settings.auth.jwtSecret, lifetimeSeconds: settings.auth.tokenTTLSeconds,
            recheckSeconds: settings.auth.tokenRecheckSeconds, standing: { try await users.standing(userID: $0) })
        passwords = try await PasswordHasher(
            cost: settings.auth.bcryptCost, threads: max(1, ProcessInfo.processInfo.activeProcessorCount),
            maxPending: settings.auth.bcryptMaxPending,
            onVerify: { [metrics] in metrics.passwordVerifications.increment() })
        entryWriter = EntryWriter(
            pool: pool, writers: settings.entries.writers, maxBatch: settings.entries.maxBatch, metrics: metrics, logger: logger)
        productCache = ProductCache(
            redis: redis, store: ProductStore(pool: publicPool), keyPrefix: settings.redis.keyPrefix, metrics: metrics)
        localReads = CacheInvalidations(
            redis: redis, keyPrefix: settings.redis.keyPrefix, entries: settings.cache.localEntries,
            timeToLiveMilliseconds: settings.cache.localTTLMilliseconds, errors: metrics.productCacheErrors, logger: logger)
        apiLimits = SharedRateLimiter(
            redis: redis, keyPrefix: settings.redis.keyPrefix, name: "api",
            perAddress: (settings.limits.ipPerSecond, settings.limits.ipBurst),
            perCustomer: (settings.limits.customerPerSecond, settings.limits.customerBurst), logger: logger)
        callbackLimits = SharedRateLimiter(
            redis: redis, keyPrefix: settings.redis.keyPrefix, name: "callback",
            perAddress: (settings.limits.callbackPerSecond, settings.limits.callbackBurst), perCustomer: nil, logger: logger)
        queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: JobQueue.keyPrefix(deployment: settings.redis.keyPrefix))
        gate = AdmissionGate(redis: redis, keyPrefix: settings.redis.keyPrefix)
        gateLoader = GateLoader(pool: pool, gate: gate, onLoad: { [metrics] in metrics.gateLoads.increment() })
        consolePages = try await ConsolePages.load()
        connections = ConnectionCounter(maxPerAddress: settings.http.maxConnectionsPerAddress)
        let window = settings.payments.windowSeconds
        purchaseConfirmations = GroupCommitWriter(
            pool: pool, maxBatch: 1000, writers: 1, policy: .retryOnceThenEachAlone,
            onBatch: { [metrics] in metrics.purchaseBatchSize.record($0) },
            body: { connection, requests, _ in
                try connection.transaction { try PurchaseStore.confirm($0, requests, paymentWindowSeconds: window) }
            })
    }

    /// The `/v1` features, in the order their routes are added. A new feature (purchases, the
    /// payment callback) is one more ``RouteGroup`` here.
    var apiRouteGroups: [any RouteGroup] {
        let entries = EntryStore(pool: pool)
        return [
            AccountRoutes(
                users: UserStore(pool: pool), hasher: passwords, tokens: tokens,
                limiter: AuthAttemptLimiter(
                    redis: redis, keyPrefix: settings.redis.keyPrefix, perAddressPerMinute: settings.limits.authPerAddressPerMinute,
                    perEmailPerMinute: settings.limits.authPerEmailPerMinute, lockoutAfterFailures: settings.limits.authLockoutAfter,
                    lockoutFirstSeconds: settings.limits.authLockoutFirstSeconds, lockoutMaxSeconds: settings.limits.authLockoutMaxSeconds,
                    logger: logger)),
            ProductRoutes(products: ProductStore(pool: pool), cache: productCache, localReads: localReads),
            DropRoutes(drops: DropStore(pool: pool), publicDrops: DropStore(pool: publicPool), gate: gate, localReads: localReads),
            ListingRoutes(listings: ListingStore(pool: pool), publicListings: ListingStore(pool: publicPool)),
            EntryRoutes(writer: entryWriter, entries: entries, metrics: metrics),
            OrderRoutes(pool: pool),
            PurchaseRoutes(
                strategy: settings.openRunStrategy, gate: gate, gateLoader: gateLoader, confirmations: purchaseConfirmations, pool: pool,
                queue: queue,
                paymentWindowSeconds: settings.payments.windowSeconds, metrics: metrics),
            AuditRoutes(pool: publicPool),
            OperatorActionRoutes(actions: operatorActions),
        ]
    }

    /// The payment provider's callback: authenticated by its signature alone, so it sits behind
    /// neither the bearer-token middleware (a provider's own `Authorization` header would get
    /// 401) nor API clients' per-address limit (a burst of callbacks would get 429).
    var callbackRouteGroup: PaymentCallbackRoutes {
        PaymentCallbackRoutes(
            pool: pool, secret: settings.payments.callbackSecret, paymentWindowSeconds: settings.payments.windowSeconds,
            followUp: settlementFollowUp, metrics: metrics)
    }

    /// What follows a committed settlement (refund jobs, units back on sale, late successes counted).
    var settlementFollowUp: SettlementFollowUp {
        SettlementFollowUp(
            queue: queue, returnUnits: { [gate] in try await gate.returnUnits(dropID: $0, count: $1) },
            lateSuccesses: metrics.lateSuccesses)
    }

    /// Refund and cancel, for the API and the console alike.
    var operatorActions: OperatorActions {
        OperatorActions(
            pool: pool, drops: DropStore(pool: pool), queue: queue, gate: gate,
            paymentWindowSeconds: settings.payments.windowSeconds, followUp: settlementFollowUp, localReads: localReads)
    }

    var consoleRoutes: ConsoleRoutes {
        ConsoleRoutes(
            pages: consolePages,
            sessions: ConsoleSessions(redis: redis, keyPrefix: settings.redis.keyPrefix, lifetimeSeconds: settings.console.sessionTTLSeconds),
            users: UserStore(pool: pool), hasher: passwords, drops: DropStore(pool: pool), listings: ListingStore(pool: pool),
            figures: ConsoleFigures(pool: pool), localReads: localReads, pool: pool, queue: queue, gate: gate, actions: operatorActions,
            maxBodyBytes: settings.http.maxBodyBytes)
    }

    /// The router and the routes it serves.
    public func makeRouter() throws -> (router: Router<IntakeRequestContext>, routes: [RouteSignature]) {
        let router = Router(context: IntakeRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        if !settings.http.corsOrigins.isEmpty {
            router.add(middleware: AllowListCORSMiddleware(allowedOrigins: Set(settings.http.corsOrigins)))
        }
        router.add(middleware: ProblemMiddleware())
        let table = RouteTable()
        router.add(middleware: MethodNotAllowedMiddleware(routes: table))

        let operations = RouteRegistry(router)
        OperationsRoutes(readinessMonitor: readinessMonitor, metrics: metrics, openAPIDocument: try OpenAPIDocument.load())
            .addRoutes(to: operations)

        let api = RouteRegistry(
            router.group()
                .add(middleware: BodyLimitMiddleware(maxBytes: settings.http.maxBodyBytes))
                .add(middleware: AuthenticationMiddleware(tokens: tokens))
                .add(middleware: RateLimitMiddleware(limiter: apiLimits)))
        for group in apiRouteGroups { group.addRoutes(to: api) }

        let callback = RouteRegistry(
            router.group()
                .add(middleware: BodyLimitMiddleware(maxBytes: settings.http.maxBodyBytes))
                .add(middleware: RateLimitMiddleware(limiter: callbackLimits)))
        callbackRouteGroup.addRoutes(to: callback)

        // The operator console: HTML pages, not API routes (not in the OpenAPI document).
        consoleRoutes.addRoutes(
            to: router.group()
                .add(middleware: BodyLimitMiddleware(maxBytes: settings.http.maxBodyBytes))
                .add(middleware: RateLimitMiddleware(limiter: apiLimits)))
        let routes = operations.registered + api.registered + callback.registered
        table.record(routes)
        return (router, routes)
    }

    /// The application; `onServerRunning` receives the bound port (useful with `http.port` 0).
    /// Its services stop in reverse order on graceful shutdown: the HTTP server first (it drains
    /// requests in flight), then the entry writer (it commits what is queued), then the stores.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        Application(
            router: try makeRouter().router,
            // Hummingbird's default keeps idle and slow connections for ever. Its idle timer
            // counts from the last complete request part; the connection guard closes a client
            // trickling its headers (slowloris) sooner, and refuses an address's connections
            // past its cap.
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionGuardInstaller(
                            counter: connections, headerTimeout: .seconds(Int64(settings.http.headerTimeoutSeconds)))
                    ],
                    idleTimeout: .seconds(Int64(settings.http.idleTimeoutSeconds)))),
            configuration: ApplicationConfiguration(
                address: .hostname(settings.http.host, port: settings.http.port),
                // Drops open with a rush of new connections; a short backlog would drop SYNs.
                backlog: 4096),
            // (The sampler stops first, while the stores it reads are still open.)
            services: [
                StoresService(service: self), readinessMonitor, localReads, entryWriter,
                MetricsSampler(
                    metrics: metrics, figures: ConsoleFigures(pool: pool), queue: queue,
                    intervalMilliseconds: settings.metricsSampleMilliseconds, logger: logger),
            ],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Stops the writers and closes every connection and thread; for an instance whose
    /// application never ran (the application does this itself on shutdown).
    public func shutdown() async {
        await entryWriter.shutdown()
        await pool.shutdown()
        await publicPool.shutdown()
        localReads.stopSubscriber()
        redis.shutdown()
        passwords.shutdown()
    }
}

/// Closes the stores once everything that uses them has stopped.
struct StoresService: Service {
    let service: IntakeService

    func run() async throws {
        try? await gracefulShutdown()
        await service.shutdown()
    }
}

extension IntakeService {
    /// Runs the API until SIGTERM or SIGINT, then shuts down gracefully (`fastest-shop serve`).
    public func runUntilSignalled(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onServerRunning: onServerRunning).runService()
    }
}
