import Synchronization

/// Token buckets by key (client address or customer), in memory, sharded so that concurrent
/// requests rarely contend on one lock. Full buckets are forgotten when a shard grows, so
/// memory follows the number of recently active keys, not all keys ever seen.
final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    private let ratePerSecond: Double
    private let burst: Int
    private let shards: [LockedShard]
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    private struct Shard {
        var buckets: [Key: TokenBucket] = [:]
        /// Size at which the shard next sweeps out full buckets.
        var sweepAt = 1024
    }

    private final class LockedShard: Sendable {
        let state = Mutex(Shard())
    }

    init(ratePerSecond: Double, burst: Int, shards: Int = 16) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.shards = (0..<shards).map { _ in LockedShard() }
        self.start = clock.now
    }

    /// Takes one token for `key`; nil when allowed, otherwise the seconds to wait.
    func acquire(_ key: Key) -> Int? {
        let now = secondsSinceStart()
        var hasher = Hasher()
        hasher.combine(key)
        let shard = shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
        return shard.state.withLock { shard in
            if shard.buckets.count >= shard.sweepAt {
                shard.buckets = shard.buckets.filter { !$0.value.isFull(now: now, ratePerSecond: ratePerSecond, burst: burst) }
                shard.sweepAt = max(1024, shard.buckets.count * 2)
            }
            return shard.buckets[key, default: TokenBucket(burst: burst, now: now)]
                .take(now: now, ratePerSecond: ratePerSecond, burst: burst)
        }
    }

    private func secondsSinceStart() -> Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
