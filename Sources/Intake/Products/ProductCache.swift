import CoreMetrics
import Foundation
import Redis
import ShopDomain
import Storage
import Synchronization

/// Cache-aside for products: reads go to Redis first and to PostgreSQL on a miss, which then
/// fills Redis; updates invalidate before and after their commit.
///
/// Single-flight: concurrent misses of one product share one lookup (and so at most one load
/// from PostgreSQL per key at a time in this process), however many arrive together.
final class ProductCache: Sendable {
    private let redis: RedisClient
    private let store: ProductStore
    private let keyPrefix: String
    private let metrics: IntakeMetrics
    private let inFlight = Mutex<[Int: Task<Lookup, any Error>]>([:])

    /// A cached copy lives at most this long: it bounds how stale another process's copy can be
    /// if its invalidation was lost (Redis down at the wrong moment).
    static let timeToLiveSeconds = 300

    enum Source { case cache, database }

    struct Lookup: Sendable {
        let product: Product?
        let source: Source
    }

    init(redis: RedisClient, store: ProductStore, keyPrefix: String, metrics: IntakeMetrics) {
        self.redis = redis
        self.store = store
        self.keyPrefix = keyPrefix
        self.metrics = metrics
    }

    func key(_ id: Int) -> String { "\(keyPrefix)product:\(id)" }

    /// A read served by the in-process cache in front of this one (``CacheInvalidations``).
    func countLocalHit() { metrics.productCacheHits.increment() }

    func product(id: Int) async throws -> Product? {
        if let cached = await cachedCopy(id) {
            metrics.productCacheHits.increment()
            return cached
        }
        let task = inFlight.withLock { tasks in
            if let running = tasks[id] { return running }
            let lookup = Task { try await self.lookUp(id) }
            tasks[id] = lookup
            return lookup
        }
        let lookup = try await task.value
        switch lookup.source {
        case .cache: metrics.productCacheHits.increment()
        case .database: metrics.productCacheMisses.increment()
        }
        return lookup.product
    }

    /// Runs `change` (a committed update of product `id`) with the cached copy dropped before
    /// and after it. Before: Redis must answer, or nothing is changed (503, not applied). After:
    /// a lookup that read the old row meanwhile is waited for and its copy deleted too; should
    /// Redis fail at that moment, the change stands and the copy expires with its time to live.
    func invalidating<T: Sendable>(id: Int, _ change: () async throws -> T) async throws -> T {
        try await redis.execute("DEL", key(id))
        let changed = try await change()
        let running = inFlight.withLock { $0[id] }
        _ = try? await running?.value
        do {
            try await redis.execute("DEL", key(id))
        } catch {
            metrics.productCacheErrors.increment()
        }
        return changed
    }

    /// The one lookup after a miss that every concurrent reader of `id` shares. It looks in
    /// Redis once more first: a lookup that finished just before this one started has filled it.
    private func lookUp(_ id: Int) async throws -> Lookup {
        defer { inFlight.withLock { _ = $0.removeValue(forKey: id) } }
        if let cached = await cachedCopy(id) { return Lookup(product: cached, source: .cache) }
        metrics.productCacheLoads.increment()
        let product = try await store.fetch(id: id)
        if let product {
            do {
                try await redis.execute("SET", key(id), Array(try Self.encoder.encode(product)), "EX", Self.timeToLiveSeconds)
            } catch {
                metrics.productCacheErrors.increment()
            }
        }
        return Lookup(product: product, source: .database)
    }

    /// The cached copy, if Redis has one. The cache is an optimisation: with Redis away, reads
    /// are served from PostgreSQL.
    private func cachedCopy(_ id: Int) async -> Product? {
        do {
            guard case .bulk(let bytes) = try await redis.send(RedisCommand("GET", key(id))).throwingError() else { return nil }
            return try? Self.decoder.decode(Product.self, from: Data(bytes))
        } catch {
            metrics.productCacheErrors.increment()
            return nil
        }
    }

    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()
}
