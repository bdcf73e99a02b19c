/// What one `serve` instance remembers between trips to the shared buckets in Redis: tokens it
/// took ahead for a key (a lease) and refusals that cannot change before a known time.
///
/// A plain value (the limiter guards it with a lock), so its decisions are unit-tested without
/// Redis. Neither memory lets an instance admit more than the shared bucket allows:
/// - A lease holds tokens already taken from the shared bucket; it is spent locally and
///   forgotten when it expires, its leftovers wasted, never returned (a client near its limit
///   may therefore be refused slightly early, never late). A lease covers ``window`` of the
///   limit's rate, so a client at the limit's rate costs Redis one call per window instead of
///   one per request. One lease per key is asked for at a time: requests arriving meanwhile ask
///   for their own token only, so a crowd of concurrent requests cannot drain the shared bucket
///   into leases and be refused by it.
/// - A refusal is remembered until the moment the shared bucket holds a token again: only time
///   refills a GCRA cell, so no request anywhere can make it true earlier. A flood from one
///   address is then answered 429 here without a call to Redis.
struct TokenLeases<Key: Hashable & Sendable>: Sendable {
    /// How much of the limit's rate one lease takes ahead.
    static var window: Duration { .milliseconds(50) }

    enum Entry: Equatable, Sendable {
        case lease(remaining: Int, until: ContinuousClock.Instant)
        /// A lease has been asked for and not yet answered (forgotten after a ``window``, so a
        /// call that failed does not keep the key from leasing).
        case leasing(until: ContinuousClock.Instant)
        case refused(until: ContinuousClock.Instant)
    }

    enum Decision: Equatable, Sendable {
        /// A token from this instance's lease: allowed without asking Redis.
        case allowed
        /// Refused without asking Redis: no token before `retryAfter` (whole seconds, ≥ 1).
        case refused(retryAfterSeconds: Int)
        /// Ask the shared bucket for `tokens` (a lease, or the request's own one).
        case askShared(tokens: Int)
    }

    /// Tokens asked for at once: the limit's tokens in ``window``, at most an eighth of the burst
    /// (so one lease never holds most of a client's burst), at least 1 (no lease: every request
    /// asks Redis, exactly as without leases).
    let leaseSize: Int
    /// Most keys remembered; past it, expired entries are swept (at most once a ``window``, so a
    /// crowd of new keys costs no sweep per request) and new ones are not kept meanwhile.
    let capacity: Int
    private(set) var entries: [Key: Entry] = [:]
    private var nextSweep: ContinuousClock.Instant?

    init(intervalMicroseconds: Int, burst: Int, capacity: Int = 16_384) {
        leaseSize = Self.leaseSize(intervalMicroseconds: intervalMicroseconds, burst: burst)
        self.capacity = capacity
    }

    static func leaseSize(intervalMicroseconds: Int, burst: Int) -> Int {
        let perWindow = Int(window / .microseconds(max(1, intervalMicroseconds)))
        return max(1, min(burst / 8, perWindow))
    }

    /// Decides a request for `key` at `now` from what this instance remembers.
    mutating func take(_ key: Key, now: ContinuousClock.Instant) -> Decision {
        switch entries[key] {
        case .lease(let remaining, let until)? where until > now:
            if remaining <= 1 { entries[key] = nil } else { entries[key] = .lease(remaining: remaining - 1, until: until) }
            return .allowed
        case .refused(let until)? where until > now:
            return .refused(retryAfterSeconds: Self.wholeSeconds(until - now))
        case .leasing(let until)? where until > now:
            return .askShared(tokens: 1)
        case .some, nil:
            guard leaseSize > 1 else {
                entries[key] = nil
                return .askShared(tokens: 1)
            }
            if entries[key] != nil {
                entries[key] = .leasing(until: now + Self.window)
            } else {
                remember(key, .leasing(until: now + Self.window), now: now)
            }
            return .askShared(tokens: entries[key] == nil ? 1 : leaseSize)
        }
    }

    /// Remembers the shared bucket's answer to ``Decision/askShared(tokens:)``: `taken` tokens,
    /// one of them spent by the request that asked. Leftovers of answers that cross add up.
    mutating func record(_ key: Key, taken: Int, now: ContinuousClock.Instant) {
        var left = taken - 1
        switch entries[key] {
        case .lease(let remaining, let until)? where until > now:
            left += remaining
        case .leasing? where taken == 1:
            // A request's own token; the lease asked for is still on its way.
            return
        default:
            break
        }
        if left > 0 {
            remember(key, .lease(remaining: left, until: now + Self.window), now: now)
        } else if case .leasing? = entries[key] {
            entries[key] = nil
        }
    }

    /// Remembers a refusal, unless a lease answered meanwhile holds tokens for `key`: then the
    /// refused request takes one of those (true), since they are this instance's already.
    mutating func recordRefusal(_ key: Key, waitMicroseconds: Int, now: ContinuousClock.Instant) -> Bool {
        if case .lease(let remaining, let until)? = entries[key], until > now {
            if remaining <= 1 { entries[key] = nil } else { entries[key] = .lease(remaining: remaining - 1, until: until) }
            return true
        }
        remember(key, .refused(until: now + .microseconds(waitMicroseconds)), now: now)
        return false
    }

    static func wholeSeconds(_ wait: Duration) -> Int {
        let microseconds = wait / .microseconds(1)
        return max(1, Int((microseconds / 1_000_000).rounded(.up)))
    }

    private mutating func remember(_ key: Key, _ entry: Entry, now: ContinuousClock.Instant) {
        if entries[key] == nil && entries.count >= capacity {
            guard nextSweep.map({ now >= $0 }) ?? true else { return }
            nextSweep = now + Self.window
            entries = entries.filter { _, entry in
                switch entry {
                case .lease(_, let until), .leasing(let until), .refused(let until): until > now
                }
            }
            guard entries.count < capacity else { return }
        }
        entries[key] = entry
    }
}
