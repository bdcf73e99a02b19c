import Logging
import Redis
import ShopDomain

/// Limits logins and signups per client address and per email, counted in Redis so that the
/// limits hold across every `serve` instance (SPEC §3): a password guesser spreading over
/// instances or addresses still gets `perEmailPerMinute` tries a minute at one account, then
/// the account is locked out for the rest of the minute.
///
/// Both counters are fixed one-minute windows, taken in one pipelined round trip before any
/// bcrypt work. While Redis is unreachable each instance counts in memory with the same
/// limits (per instance, so N instances allow N times as much until Redis is back).
struct AuthAttemptLimiter: Sendable {
    let redis: RedisClient
    let keyPrefix: String
    let perAddressPerMinute: Int
    let perEmailPerMinute: Int
    let localPerAddress: RateLimiter<ClientAddress>
    let localPerEmail: RateLimiter<String>
    let logger: Logger

    init(redis: RedisClient, keyPrefix: String, perAddressPerMinute: Int, perEmailPerMinute: Int, logger: Logger) {
        self.redis = redis
        self.keyPrefix = keyPrefix + "auth:"
        self.perAddressPerMinute = perAddressPerMinute
        self.perEmailPerMinute = perEmailPerMinute
        localPerAddress = RateLimiter(ratePerSecond: Double(perAddressPerMinute) / 60, burst: perAddressPerMinute)
        localPerEmail = RateLimiter(ratePerSecond: Double(perEmailPerMinute) / 60, burst: perEmailPerMinute)
        self.logger = logger
    }

    /// Counts one attempt; returns and increments the window's count, and the milliseconds left
    /// in the window.
    static let count = RedisScript("""
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
        return {count, ttl}
        """)

    /// Takes one attempt for `address` and `email` (the text as sent, normalised when it is an
    /// address, so an unknown or malformed email counts exactly like a known one); throws
    /// `rate-limited` with `Retry-After` when either limit is spent.
    func acquire(address: ClientAddress, email: String) async throws {
        let emailKey = EmailAddress(email)?.normalized ?? email.lowercased()
        let replies: [RedisReply]
        do {
            replies = try await redis.runAll(Self.count, calls: [
                (keys: [keyPrefix + "ip:" + address.keyText], arguments: [60_000]),
                (keys: [keyPrefix + "email:" + emailKey], arguments: [60_000]),
            ])
        } catch {
            logger.warning("auth limits fall back to this instance's count: Redis is unreachable", metadata: ["error": "\(error)"])
            if let wait = localPerAddress.acquire(address) { throw Self.limited("this address", wait) }
            if let wait = localPerEmail.acquire(emailKey) { throw Self.limited("this account", wait) }
            return
        }
        for (reply, (limit, what)) in zip(replies, [(perAddressPerMinute, "this address"), (perEmailPerMinute, "this account")]) {
            guard let pair = reply.array, pair.count == 2, let count = pair[0].int, let ttl = pair[1].int else {
                _ = try reply.throwingError()
                continue
            }
            if count > limit { throw Self.limited(what, max(1, (ttl + 999) / 1000)) }
        }
    }

    static func limited(_ what: String, _ seconds: Int) -> Problem {
        Problem(.rateLimited, "too many logins or signups for \(what); try again later", retryAfterSeconds: seconds)
    }
}
