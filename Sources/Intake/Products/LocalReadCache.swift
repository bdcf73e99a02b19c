import Dispatch
import Synchronization

/// The in-process cache in front of Redis for public reads (products, drops), so a read during a
/// refresh storm costs a dictionary lookup under a lock, not a Redis round trip.
///
/// Plain state behind a `Mutex` (no actor hop on the hot path). Entries live at most
/// `timeToLive` and at most `capacity` are kept. Writes on any instance publish the key through
/// Redis (``CacheInvalidations``); while that subscription is not live the cache is empty and
/// bypassed, so a copy is never served for longer than its time to live after a change.
final class LocalReadCache<Value: Sendable>: Sendable {
    private let state: Mutex<LocalReadCacheState<Value>>

    init(capacity: Int, timeToLiveNanoseconds: UInt64) {
        state = Mutex(LocalReadCacheState(capacity: capacity, timeToLiveNanoseconds: timeToLiveNanoseconds))
    }

    /// The cached value of `key`, if live, fresh and present.
    func value(for key: String) -> Value? {
        let now = Self.now()
        return state.withLock { $0.value(for: key, now: now) }
    }

    /// What a loader takes before reading the stores and hands back to ``store(_:for:ticket:)``;
    /// nil while the cache is bypassed.
    func ticket() -> UInt64? { state.withLock { $0.ticket() } }

    /// Keeps `value` unless anything was invalidated since `ticket` was taken (the value may
    /// have been read before that write).
    func store(_ value: Value, for key: String, ticket: UInt64?) {
        guard let ticket else { return }
        let now = Self.now()
        state.withLock { $0.store(value, for: key, ticket: ticket, now: now) }
    }

    func invalidate(_ key: String) { state.withLock { $0.invalidate(key) } }

    /// The subscription is lost: forget everything and serve from Redis until it is back.
    func suspend() { state.withLock { $0.setLive(false) } }

    /// The subscription is (back) in place: start empty, since messages may have been missed.
    func resume() { state.withLock { $0.setLive(true) } }

    var count: Int { state.withLock { $0.count } }
    var isLive: Bool { state.withLock { $0.live } }

    static func now() -> UInt64 { LocalReadClock.nanoseconds() }
}

/// Nanoseconds on the monotonic clock (a generic type has no static storage).
enum LocalReadClock {
    static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// ``LocalReadCache``'s state; time is passed in (nanoseconds) so it can be tested without waiting.
struct LocalReadCacheState<Value> {
    struct Entry {
        var value: Value
        var expires: UInt64
        /// Which insertion this is, to tell it from an older one of the same key in `order`.
        var stamp: UInt64
    }

    let capacity: Int
    let timeToLiveNanoseconds: UInt64
    private(set) var live = false
    private var entries: [String: Entry] = [:]
    /// Keys in insertion order (with one time to live for all, also expiry order): the oldest
    /// is evicted first. Entries whose stamp no longer matches are skipped.
    private var order: [(key: String, stamp: UInt64)] = []
    private var orderHead = 0
    private var nextStamp: UInt64 = 0
    /// Bumped by every invalidation: a loader's ticket from before it may not store.
    private var generation: UInt64 = 0

    init(capacity: Int, timeToLiveNanoseconds: UInt64) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.timeToLiveNanoseconds = timeToLiveNanoseconds
    }

    var count: Int { entries.count }

    mutating func value(for key: String, now: UInt64) -> Value? {
        guard live, let entry = entries[key] else { return nil }
        guard now < entry.expires else {
            entries[key] = nil
            return nil
        }
        return entry.value
    }

    func ticket() -> UInt64? { live ? generation : nil }

    mutating func store(_ value: Value, for key: String, ticket: UInt64, now: UInt64) {
        guard live, ticket == generation else { return }
        if entries[key] == nil {
            while entries.count >= capacity { evictOldest() }
        }
        nextStamp &+= 1
        entries[key] = Entry(value: value, expires: now + timeToLiveNanoseconds, stamp: nextStamp)
        order.append((key, nextStamp))
        compactOrder()
    }

    mutating func invalidate(_ key: String) {
        generation &+= 1
        entries[key] = nil
    }

    mutating func setLive(_ live: Bool) {
        generation &+= 1
        self.live = live
        entries.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        orderHead = 0
    }

    private mutating func evictOldest() {
        while orderHead < order.count {
            let oldest = order[orderHead]
            orderHead += 1
            if entries[oldest.key]?.stamp == oldest.stamp {
                entries[oldest.key] = nil
                return
            }
        }
        // Unreachable while every entry has its place in `order`; never loop for ever.
        entries.removeAll(keepingCapacity: true)
    }

    /// Drops the skipped head and the stale places, so `order` stays about `capacity` long
    /// however often keys are stored again.
    private mutating func compactOrder() {
        guard order.count > 2 * capacity + 16 else { return }
        order = order[orderHead...].filter { entries[$0.key]?.stamp == $0.stamp }
        orderHead = 0
    }
}
