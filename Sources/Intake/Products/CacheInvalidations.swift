import CoreMetrics
import Logging
import NIOCore
import Redis
import ServiceLifecycle

/// Keeps every `serve`'s ``LocalReadCache`` honest: a write publishes the key it changed on a
/// Redis channel under the deployment's prefix, and each instance, subscribed on a connection of
/// its own (a ``RedisBlockingClient``: its own thread), drops that key.
///
/// While the subscription is down the local cache is emptied and bypassed (reads go to Redis),
/// and it is emptied again when the subscription is back: what was published in between is lost.
/// With Redis Cluster (no single connection sees every publish without more work) the local cache
/// stays bypassed.
final class CacheInvalidations: Service, Sendable {
    /// How often the subscription is polled for messages (see ``RedisBlockingClient/pollMessages(channel:)``):
    /// the delay before another instance's write is seen, far under the local time to live.
    static let pollInterval: Duration = .milliseconds(20)

    let cache: LocalReadCache<ByteBuffer>
    private let redis: RedisClient
    private let subscriber: RedisBlockingClient
    private let channel: String
    private let enabled: Bool
    private let errors: CoreMetrics.Counter
    private let logger: Logger

    init(redis: RedisClient, keyPrefix: String, entries: Int, timeToLiveMilliseconds: Int, errors: CoreMetrics.Counter, logger: Logger) {
        cache = LocalReadCache(capacity: max(1, entries), timeToLiveNanoseconds: UInt64(timeToLiveMilliseconds) * 1_000_000)
        self.redis = redis
        subscriber = RedisBlockingClient(configuration: redis.configuration, name: "cache-subscriber")
        channel = "\(keyPrefix)cache:invalidate"
        // 0 entries or 0 ms: no local cache at all.
        enabled = !redis.configuration.isCluster && entries > 0 && timeToLiveMilliseconds > 0
        self.errors = errors
        self.logger = logger
    }

    /// After a committed write of `key`: dropped here at once, on other instances when the
    /// message arrives. A failed publish is only counted: the other copies expire with their TTL.
    func publish(_ key: String) async {
        cache.invalidate(key)
        guard enabled else { return }
        do {
            try await redis.execute("PUBLISH", channel, key)
        } catch {
            errors.increment()
        }
    }

    func run() async throws {
        guard enabled else {
            try? await gracefulShutdown()
            subscriber.shutdown()
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                var failing = false
                while !Task.isCancelled {
                    do {
                        let messages = try await subscriber.pollMessages(channel: channel)
                        if messages.resubscribed { cache.resume() }
                        for payload in messages.payloads { cache.invalidate(String(decoding: payload, as: UTF8.self)) }
                        if failing { logger.info("cache invalidation subscription is back") }
                        failing = false
                    } catch {
                        cache.suspend()
                        if !failing {
                            errors.increment()
                            logger.warning("cache invalidation subscription lost; reads bypass the local cache", metadata: ["error": "\(error)"])
                        }
                        failing = true
                    }
                    try? await Task.sleep(for: failing ? .milliseconds(200) : Self.pollInterval)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        stopSubscriber()
    }

    /// Ends the subscription's thread (again harmlessly, for an instance whose application never ran).
    func stopSubscriber() {
        cache.suspend()
        subscriber.shutdown()
    }
}
