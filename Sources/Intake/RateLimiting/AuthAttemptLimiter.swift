import Logging
import Redis
import ShopDomain

/// Limits logins and signups per client address and per email, counted in Redis so that the limits hold
/// across every `serve` instance (docs/contract.md, "HTTP API"): a password guesser spreading over
/// instances or addresses still gets `perEmailPerMinute` tries a minute at one account, then the account
/// is locked out for the rest of the minute.
///
/// Both counters are fixed one-minute windows, taken in one pipelined round trip before any
/// bcrypt work. While Redis is unreachable each instance counts in memory with the same
/// limits (per instance, so N instances allow N times as much until Redis is back).
struct AuthAttemptLimiter: Sendable {
    let redis: RedisClient
    let keyPrefix: String
    let perAddressPerMinute: Int
    let perEmailPerMinute: Int
    /// Failed logins an email may have before each further one locks it out (see ``recordFailure(email:)``).
    let lockoutAfterFailures: Int
    /// The first lockout; each further failure doubles it.
    let lockoutFirstMilliseconds: Int
    /// The longest lockout, and how long failures are remembered after the last one.
    let lockoutMaxMilliseconds: Int
    let localPerAddress: RateLimiter<ClientAddress>
    let localPerEmail: RateLimiter<String>
    let logger: Logger

    init(
        redis: RedisClient, keyPrefix: String, perAddressPerMinute: Int, perEmailPerMinute: Int,
        lockoutAfterFailures: Int = 5, lockoutFirstSeconds: Int = 1, lockoutMaxSeconds: Int = 900, logger: Logger
    ) {
        self.redis = redis
        self.keyPrefix = keyPrefix + "auth:"
        self.perAddressPerMinute = perAddressPerMinute
        self.perEmailPerMinute = perEmailPerMinute
        self.lockoutAfterFailures = lockoutAfterFailures
        self.lockoutFirstMilliseconds = lockoutFirstSeconds * 1000
        self.lockoutMaxMilliseconds = lockoutMaxSeconds * 1000
        localPerAddress = RateLimiter(ratePerSecond: Double(perAddressPerMinute) / 60, burst: perAddressPerMinute)
        localPerEmail = RateLimiter(ratePerSecond: Double(perEmailPerMinute) / 60, burst: perEmailPerMinute)
        self.logger = logger
    }

    /// Counts one attempt; returns and increments the window's count, the milliseconds left in
    /// the window and, when a lockout key is given as `KEYS[2]`, the milliseconds left of that
    /// lockout (0 or less: none).
    static let count = RedisScript(
        """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
        local locked = 0
        if KEYS[2] then locked = redis.call('PTTL', KEYS[2]) end
        return {count, ttl, locked}
        """)

    /// Records one failed login: counts it (remembered for `ARGV[2]` ms after the last failure)
    /// and, from the `ARGV[1]`th failure on, locks the email out for `ARGV[3]` ms, doubling with
    /// each further failure up to `ARGV[2]` ms. Returns the failures counted.
    static let fail = RedisScript(
        """
        local failures = redis.call('INCR', KEYS[1])
        local longest = tonumber(ARGV[2])
        redis.call('PEXPIRE', KEYS[1], longest)
        local after = tonumber(ARGV[1])
        if failures >= after then
            local lockout = math.min(tonumber(ARGV[3]) * 2 ^ math.min(failures - after, 30), longest)
            redis.call('SET', KEYS[2], '1', 'PX', math.floor(lockout))
        end
        return failures
        """)

    /// Takes one attempt for `address` and `email` (the text as sent, normalised when it is an
    /// address, so an unknown or malformed email counts exactly like a known one); throws
    /// `rate-limited` with `Retry-After` when either limit is spent or, for a login
    /// (`checkLockout`), while the email is locked out after failed logins.
    func acquire(address: ClientAddress, email: String, checkLockout: Bool = false) async throws {
        let emailKey = Self.emailKey(email)
        let replies: [RedisReply]
        do {
            replies = try await redis.runAll(
                Self.count,
                calls: [
                    (keys: [keyPrefix + "ip:" + address.keyText], arguments: [60_000]),
                    (keys: [keyPrefix + "email:" + emailKey] + (checkLockout ? [lockoutKey(emailKey)] : []), arguments: [60_000]),
                ])
        } catch {
            logger.warning("auth limits fall back to this instance's count: Redis is unreachable", metadata: ["error": "\(error)"])
            if let wait = localPerAddress.acquire(address) { throw Self.limited("this address", wait) }
            if let wait = localPerEmail.acquire(emailKey) { throw Self.limited("this account", wait) }
            return
        }
        for (reply, (limit, what)) in zip(replies, [(perAddressPerMinute, "this address"), (perEmailPerMinute, "this account")]) {
            guard let values = reply.array, values.count == 3, let count = values[0].int, let ttl = values[1].int,
                let locked = values[2].int
            else {
                _ = try reply.throwingError()
                continue
            }
            if count > limit { throw Self.limited(what, max(1, (ttl + 999) / 1000)) }
            if locked > 0 {
                throw Problem(
                    .rateLimited, "too many failed logins for this account; try again later",
                    retryAfterSeconds: max(1, (locked + 999) / 1000))
            }
        }
    }

    /// Counts a failed login for `email`, known or not (the same Redis work either way), locking
    /// it out progressively (see ``fail``). With Redis unreachable nothing is counted: the
    /// per-email limit, counted locally then, still bounds the guesses.
    func recordFailure(email: String) async {
        let emailKey = Self.emailKey(email)
        do {
            _ = try await redis.run(
                Self.fail, keys: [keyPrefix + "failures:" + emailKey, lockoutKey(emailKey)],
                arguments: [lockoutAfterFailures, lockoutMaxMilliseconds, lockoutFirstMilliseconds]
            ).throwingError()
        } catch {
            logger.warning("a failed login was not counted: Redis is unreachable", metadata: ["error": "\(error)"])
        }
    }

    /// Forgets an email's failed logins after a successful one.
    func recordSuccess(email: String) async {
        let emailKey = Self.emailKey(email)
        _ = try? await redis.execute("DEL", keyPrefix + "failures:" + emailKey, lockoutKey(emailKey))
    }

    static func emailKey(_ email: String) -> String { EmailAddress(email)?.normalized ?? email.lowercased() }

    func lockoutKey(_ emailKey: String) -> String { keyPrefix + "lockout:" + emailKey }

    static func limited(_ what: String, _ seconds: Int) -> Problem {
        Problem(.rateLimited, "too many logins or signups for \(what); try again later", retryAfterSeconds: seconds)
    }
}
