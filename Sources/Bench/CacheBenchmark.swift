import CurlHTTP
import Foundation
import Intake
import Postgres
import Redis
import Settings
import Storage

/// `bench cache`: product reads through the caches. Many distinct products are read once with
/// cold caches (every read misses: Redis, then PostgreSQL, then the fill), then read again with
/// Redis warm (`redis_hit_per_s`: too many and too spread for serve's local cache, so each read
/// is a Redis round trip), then the refresh storm (`cached_per_s`: as many reads of a few
/// `hot_products`, the pages of a drop, served from the in-process cache), then `/healthz` as
/// often (no I/O: the server's own ceiling), with the same load generator and concurrency.
public struct CacheBenchmark: Sendable {
    public var products: Int
    public var concurrency: Int
    /// Products the refresh storm reads over and over.
    public var hotProducts: Int

    /// Turns of the refresh storm and of `/healthz`.
    static let rounds = 3

    public init(products: Int = 20_000, concurrency: Int = 128, hotProducts: Int = 100) {
        self.products = products
        self.concurrency = concurrency
        self.hotProducts = hotProducts
    }

    public struct Result: Sendable, Encodable {
        public var reads: Int
        public var cachedPerSecond: Double
        public var uncachedPerSecond: Double
        /// Distinct products read with Redis warm: one Redis round trip each.
        public var redisHitPerSecond: Double
        public var hotProducts: Int
        /// `/healthz` on the same server with the same generator: what a read costing nothing
        /// but HTTP would reach.
        public var healthzPerSecond: Double
        /// `cached_per_s` / `healthz_per_s` (goal ≥ 0.8) and `cached_per_s` / `uncached_per_s`.
        public var cachedToHealthz: Double
        public var cachedToUncached: Double
        public var cachedP99Milliseconds: Double
        public var uncachedP99Milliseconds: Double
        public var cacheHits: Double
        public var cacheMisses: Double
        public var concurrency: Int

        enum CodingKeys: String, CodingKey {
            case reads
            case cachedPerSecond = "cached_per_s"
            case uncachedPerSecond = "uncached_per_s"
            case healthzPerSecond = "healthz_per_s"
            case redisHitPerSecond = "redis_hit_per_s"
            case hotProducts = "hot_products"
            case cachedToHealthz = "cached_to_healthz"
            case cachedToUncached = "cached_to_uncached"
            case cachedP99Milliseconds = "cached_p99_ms"
            case uncachedP99Milliseconds = "uncached_p99_ms"
            case cacheHits = "cache_hits"
            case cacheMisses = "cache_misses"
            case concurrency
        }
    }

    public func run(settings: ShopSettings, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "bench-setup")
        defer { Task { await pool.shutdown() } }
        try await Migrator().migrate(pool)
        progress("creating \(products) products")
        let ids = try await pool.query(
            """
            INSERT INTO products (name, price_cents, currency)
            SELECT 'bench product ' || n, 1000 + n, 'EUR' FROM generate_series(1, $1) AS n RETURNING id
            """,
            [.int(products)]
        ).map { try $0.int(0) }

        let hot = Array(ids.prefix(max(1, hotProducts)))
        let load = HTTPLoad(concurrency: concurrency)
        defer { load.shutdown() }
        var isolated = settings
        // A key prefix of its own: nothing cached by earlier runs can turn a miss into a hit.
        isolated.redis.keyPrefix = settings.redis.keyPrefix + "bench-\(UUID().uuidString.prefix(8)):"
        return try await InProcessIntake.with(settings: isolated) { server in
            progress("measuring cold reads")
            let uncached = await load.run(count: ids.count) { HTTPRequest(url: server.url("/v1/products/\(ids[$0])")) }
            progress("measuring reads with Redis warm")
            let redisHits = await load.run(count: ids.count) { HTTPRequest(url: server.url("/v1/products/\(ids[$0])")) }
            progress("measuring the refresh storm (\(hot.count) products) and /healthz, \(Self.rounds) rounds each, alternating")
            _ = await load.run(count: hot.count) { HTTPRequest(url: server.url("/v1/products/\(hot[$0])")) }
            // The two figures of the goal's ratio, measured in turns so that the machine's pace
            // drifting during the run weighs on both alike.
            var cachedRounds: [HTTPLoad.Outcome] = []
            var healthRounds: [HTTPLoad.Outcome] = []
            for _ in 0..<Self.rounds {
                cachedRounds.append(await load.run(count: ids.count) { HTTPRequest(url: server.url("/v1/products/\(hot[$0 % hot.count])")) })
                healthRounds.append(await load.run(count: ids.count) { _ in HTTPRequest(url: server.url("/healthz")) })
            }
            let cached = HTTPLoad.Outcome(combining: cachedRounds)
            let health = HTTPLoad.Outcome(combining: healthRounds)
            let exposition = server.service.metrics.exposition()
            guard uncached.count(status: 200) == ids.count, cached.count(status: 200) == ids.count * Self.rounds,
                redisHits.count(status: 200) == ids.count,
                health.count(status: 200) == ids.count * Self.rounds
            else {
                throw BenchFailure("some reads failed: cold \(uncached.statuses), warm \(cached.statuses), healthz \(health.statuses)")
            }
            try await server.service.redis.execute(
                "EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", 0, isolated.redis.keyPrefix + "*")
            return Result(
                reads: ids.count, cachedPerSecond: cached.perSecond, uncachedPerSecond: uncached.perSecond,
                redisHitPerSecond: redisHits.perSecond, hotProducts: hot.count,
                healthzPerSecond: health.perSecond, cachedToHealthz: cached.perSecond / max(health.perSecond, 1e-9),
                cachedToUncached: cached.perSecond / max(uncached.perSecond, 1e-9),
                cachedP99Milliseconds: cached.percentile(0.99), uncachedP99Milliseconds: uncached.percentile(0.99),
                cacheHits: BenchData.sample(exposition, "intake_product_cache_hits_total"),
                cacheMisses: BenchData.sample(exposition, "intake_product_cache_misses_total"),
                concurrency: concurrency)
        }
    }
}
