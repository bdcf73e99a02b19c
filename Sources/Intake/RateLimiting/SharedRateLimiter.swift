import Logging
import Redis
import ShopDomain
import Synchronization

/// The per-address and per-customer token buckets of one group of routes, kept in Redis so N
/// `serve` instances enforce one limit (issue 16), not N times it.
///
/// A request takes its tokens in at most one pipelined round trip (one script call per bucket;
/// the client pipelines calls of concurrent requests too), and often none: each instance takes
/// tokens ahead for a busy key and remembers refusals until a token is due (``TokenLeases``),
/// neither of which lets it admit more than the shared bucket. The buckets are GCRA cells: one key per
/// address or customer holding the time its bucket is next full, in Redis's clock, so no two
/// hosts' clocks are compared. While Redis is unreachable each instance falls back to its own
/// in-memory buckets with the same figures (N instances then allow N times as much); after a
/// failure it stays on them for ``fallbackPeriod`` before asking Redis again, so a hung Redis
/// costs one request a command timeout per period, not every request.
final class SharedRateLimiter: Sendable {
    struct Limit: Sendable {
        /// Microseconds between two tokens (at least 1).
        let intervalMicroseconds: Int
        let burst: Int

        init(ratePerSecond: Double, burst: Int) {
            intervalMicroseconds = max(1, Int((1_000_000 / ratePerSecond).rounded()))
            self.burst = burst
        }
    }

    private let redis: RedisClient
    private let keyPrefix: String
    private let perAddress: Limit
    private let perCustomer: Limit?
    private let localPerAddress: RateLimiter<ClientAddress>
    private let localPerCustomer: RateLimiter<Int>?
    private let addressLeases: Mutex<TokenLeases<String>>
    /// Unused when the group has no per-customer limit.
    private let customerLeases: Mutex<TokenLeases<Int>>
    private let logger: Logger
    /// Until when this instance counts locally after Redis failed.
    private let localUntil = Mutex<ContinuousClock.Instant?>(nil)

    static let fallbackPeriod: Duration = .seconds(1)

    /// `name` keeps groups of routes with their own limits apart in Redis (`api`, `callback`).
    init(
        redis: RedisClient, keyPrefix: String, name: String, perAddress: (ratePerSecond: Double, burst: Int),
        perCustomer: (ratePerSecond: Double, burst: Int)?, logger: Logger
    ) {
        self.redis = redis
        self.keyPrefix = keyPrefix + "limit:" + name + ":"
        self.perAddress = Limit(ratePerSecond: perAddress.ratePerSecond, burst: perAddress.burst)
        self.perCustomer = perCustomer.map { Limit(ratePerSecond: $0.ratePerSecond, burst: $0.burst) }
        localPerAddress = RateLimiter(ratePerSecond: perAddress.ratePerSecond, burst: perAddress.burst)
        localPerCustomer = perCustomer.map { RateLimiter(ratePerSecond: $0.ratePerSecond, burst: $0.burst) }
        addressLeases = Mutex(TokenLeases(intervalMicroseconds: self.perAddress.intervalMicroseconds, burst: self.perAddress.burst))
        customerLeases = Mutex(
            TokenLeases(
                intervalMicroseconds: self.perCustomer?.intervalMicroseconds ?? 1, burst: self.perCustomer?.burst ?? 1))
        self.logger = logger
    }

    /// Takes up to `ARGV[3]` tokens from the GCRA cell `KEYS[1]` (`ARGV[1]` µs per token, burst
    /// `ARGV[2]`); returns how many it took (at least 1), or, when not even one is free, minus
    /// the microseconds until one is (at most -1).
    static let take = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local wanted = tonumber(ARGV[3])
        local full = tonumber(redis.call('GET', KEYS[1]) or '0')
        if full < now then full = now end
        local allowedFrom = full + interval - burst * interval
        if allowedFrom > now then return -math.max(1, math.ceil(allowedFrom - now)) end
        local taken = math.min(wanted, math.floor((now - full) / interval) + burst)
        full = full + taken * interval
        redis.call('SET', KEYS[1], string.format('%.0f', full), 'PX', math.ceil((full - now) / 1000) + 1)
        return taken
        """)

    /// A refusal: which bucket is empty and the seconds to wait.
    enum Refusal: Sendable {
        case address(Int)
        case customer(Int)
    }

    /// Takes a token for `address` and, when given, for `customer`; nil when both allow it.
    func acquire(address: ClientAddress, customer: Int?) async -> Refusal? {
        let customer = perCustomer == nil ? nil : customer
        if !countsLocally() {
            let now = ContinuousClock.now
            let addressKey = address.keyText
            let forAddress = addressLeases.withLock { $0.take(addressKey, now: now) }
            if case .refused(let wait) = forAddress { return .address(wait) }
            var forCustomer: TokenLeases<Int>.Decision?
            if let customer {
                forCustomer = customerLeases.withLock { $0.take(customer, now: now) }
                if case .refused(let wait)? = forCustomer { return .customer(wait) }
            }
            var calls: [(keys: [String], arguments: [any RedisArgument])] = []
            var askedAddress = false
            if case .askShared(let tokens) = forAddress {
                askedAddress = true
                calls.append(
                    (
                        keys: [keyPrefix + "ip:" + addressKey],
                        arguments: [perAddress.intervalMicroseconds, perAddress.burst, tokens]
                    ))
            }
            if case .askShared(let tokens)? = forCustomer, let customer, let perCustomer {
                calls.append(
                    (
                        keys: [keyPrefix + "customer:" + String(customer)],
                        arguments: [perCustomer.intervalMicroseconds, perCustomer.burst, tokens]
                    ))
            }
            if calls.isEmpty { return nil }
            do {
                var answers = try await redis.runAll(Self.take, calls: calls).map { reply -> Int in
                    guard let answer = try reply.throwingError().int, answer != 0 else {
                        throw RedisError(code: .unexpectedReply, message: "the rate limit script answered no count")
                    }
                    return answer
                }[...]
                var refusal: Refusal?
                if askedAddress, let answer = answers.popFirst() {
                    if answer > 0 {
                        addressLeases.withLock { $0.record(addressKey, taken: answer, now: now) }
                    } else if !addressLeases.withLock({ $0.recordRefusal(addressKey, waitMicroseconds: -answer, now: now) }) {
                        refusal = .address(TokenLeases<String>.wholeSeconds(.microseconds(-answer)))
                    }
                }
                if let customer, let answer = answers.popFirst() {
                    if answer > 0 {
                        customerLeases.withLock { $0.record(customer, taken: answer, now: now) }
                    } else if !customerLeases.withLock({ $0.recordRefusal(customer, waitMicroseconds: -answer, now: now) }) {
                        refusal = refusal ?? .customer(TokenLeases<Int>.wholeSeconds(.microseconds(-answer)))
                    }
                }
                return refusal
            } catch {
                fallBack(error)
            }
        }
        if let wait = localPerAddress.acquire(address) { return .address(wait) }
        if let customer, let wait = localPerCustomer?.acquire(customer) { return .customer(wait) }
        return nil
    }

    private func countsLocally() -> Bool {
        localUntil.withLock { until in
            guard let deadline = until else { return false }
            if ContinuousClock.now < deadline { return true }
            until = nil
            return false
        }
    }

    private func fallBack(_ error: any Error) {
        let first = localUntil.withLock { until in
            defer { until = ContinuousClock.now + Self.fallbackPeriod }
            return until == nil
        }
        if first {
            logger.warning("rate limits fall back to this instance's count: Redis is unreachable", metadata: ["error": "\(error)"])
        }
    }
}
