/// How the mock payment provider behaves: where it listens, the secrets of both directions, and
/// the odds of each outcome. `fastest-shop mock-payments` sets each property from the flag of the
/// same name (`--latency-ms` for `latencyMilliseconds`) or, for the secrets and the charge path,
/// from a setting; ``validate()`` names a bad value by that flag or setting.
public struct MockPaymentsConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; ``MockPaymentProvider/waitUntilListening()`` tells which.
    public var port: Int
    /// The path charges are posted to (the path part of `payments.url`).
    public var chargePath: String

    /// Verifies the charge webhooks we send (`payments.secret`).
    public var secret: String
    /// Signs the callbacks the provider sends (`payments.callback_secret`).
    public var callbackSecret: String
    /// How far a charge's `webhook-timestamp` may lie from the provider's clock, in seconds.
    public var signatureToleranceSeconds: Int

    /// Every charge answer waits this long, plus or minus up to ``latencyJitterMilliseconds``.
    public var latencyMilliseconds: Int
    public var latencyJitterMilliseconds: Int

    /// Fractions of new charges with each outcome; the rest succeed. They must not sum above 1.
    public var declineRate: Double
    public var errorRate: Double
    public var timeoutRate: Double
    public var pendingRate: Double
    /// How long a `timeout` charge holds its (successful) answer back: longer than the client waits.
    public var timeoutHoldMilliseconds: Int

    /// Where callbacks for pending charges go.
    public var callbackURL: String
    /// How long a pending charge stays pending before its callback is sent.
    public var callbackDelayMilliseconds: Int
    /// Fraction of pending charges that end `charge.succeeded` (the rest `charge.failed`).
    public var pendingSuccessRate: Double
    /// Fraction of callbacks delivered twice (same `webhook-id`), to exercise the receiver's dedupe.
    public var duplicateCallbackRate: Double
    /// Fraction of pending charges that succeed *late*: their `charge.succeeded` callback is sent
    /// after ``lateCallbackDelayMilliseconds`` (past the shop's payment window, so it must refund).
    public var lateSuccessRate: Double = 0
    public var lateCallbackDelayMilliseconds: Int = 10_000
    /// Delivery attempts per callback, the first included.
    public var callbackAttempts: Int
    /// Wait before the second attempt; it doubles for each further attempt.
    public var callbackBackoffMilliseconds: Int
    /// Milliseconds for one delivery attempt, connection included.
    public var callbackTimeoutMilliseconds: Int

    /// Seeds every random outcome: one seed and one Idempotency-Key always give the same outcome.
    public var seed: UInt64

    public init(
        host: String = "127.0.0.1",
        port: Int = 8090,
        chargePath: String = "/v1/charges",
        secret: String,
        callbackSecret: String,
        signatureToleranceSeconds: Int = 300,
        latencyMilliseconds: Int = 0,
        latencyJitterMilliseconds: Int = 0,
        declineRate: Double = 0,
        errorRate: Double = 0,
        timeoutRate: Double = 0,
        pendingRate: Double = 0,
        timeoutHoldMilliseconds: Int = 30_000,
        callbackURL: String = "http://127.0.0.1:8080/v1/payments/callback",
        callbackDelayMilliseconds: Int = 500,
        pendingSuccessRate: Double = 1,
        duplicateCallbackRate: Double = 0,
        callbackAttempts: Int = 6,
        callbackBackoffMilliseconds: Int = 500,
        callbackTimeoutMilliseconds: Int = 5000,
        seed: UInt64 = .random(in: .min ... .max)
    ) {
        self.host = host
        self.port = port
        self.chargePath = chargePath
        self.secret = secret
        self.callbackSecret = callbackSecret
        self.signatureToleranceSeconds = signatureToleranceSeconds
        self.latencyMilliseconds = latencyMilliseconds
        self.latencyJitterMilliseconds = latencyJitterMilliseconds
        self.declineRate = declineRate
        self.errorRate = errorRate
        self.timeoutRate = timeoutRate
        self.pendingRate = pendingRate
        self.timeoutHoldMilliseconds = timeoutHoldMilliseconds
        self.callbackURL = callbackURL
        self.callbackDelayMilliseconds = callbackDelayMilliseconds
        self.pendingSuccessRate = pendingSuccessRate
        self.duplicateCallbackRate = duplicateCallbackRate
        self.callbackAttempts = callbackAttempts
        self.callbackBackoffMilliseconds = callbackBackoffMilliseconds
        self.callbackTimeoutMilliseconds = callbackTimeoutMilliseconds
        self.seed = seed
    }

    /// Checks every value; the error names the first bad one by its flag.
    public func validate() throws(MockPaymentsError) {
        if host.isEmpty { throw .invalid("--host", "must not be empty") }
        try check("--port", port, in: 0...65535)
        if !chargePath.hasPrefix("/") { throw .invalid("payments.url", "must have a path starting with /") }
        if secret.isEmpty { throw .invalid("payments.secret", "must not be empty") }
        if callbackSecret.isEmpty { throw .invalid("payments.callback_secret", "must not be empty") }
        if secret.utf8.count < 32 { throw .invalid("payments.secret", "must be at least 32 bytes long") }
        if callbackSecret.utf8.count < 32 { throw .invalid("payments.callback_secret", "must be at least 32 bytes long") }
        try check("--signature-tolerance-s", signatureToleranceSeconds, in: 1...86_400)
        try check("--latency-ms", latencyMilliseconds, in: 0...600_000)
        try check("--latency-jitter-ms", latencyJitterMilliseconds, in: 0...600_000)
        try check("--timeout-hold-ms", timeoutHoldMilliseconds, in: 0...3_600_000)
        try check("--callback-delay-ms", callbackDelayMilliseconds, in: 0...3_600_000)
        try check("--late-callback-delay-ms", lateCallbackDelayMilliseconds, in: 0...3_600_000)
        try check("--callback-attempts", callbackAttempts, in: 1...100)
        try check("--callback-backoff-ms", callbackBackoffMilliseconds, in: 0...600_000)
        try check("--callback-timeout-ms", callbackTimeoutMilliseconds, in: 10...600_000)
        if !(callbackURL.hasPrefix("http://") || callbackURL.hasPrefix("https://")) {
            throw .invalid("--callback-url", "must be an http:// or https:// URL")
        }
        let rates = [
            ("--decline-rate", declineRate), ("--error-rate", errorRate), ("--timeout-rate", timeoutRate),
            ("--pending-rate", pendingRate), ("--pending-success-rate", pendingSuccessRate),
            ("--duplicate-callback-rate", duplicateCallbackRate), ("--late-success-rate", lateSuccessRate),
        ]
        for (flag, rate) in rates where !(0...1).contains(rate) {
            throw .invalid(flag, "must be a fraction between 0 and 1, got \(rate)")
        }
        let outcomes = declineRate + errorRate + timeoutRate + pendingRate
        // A little slack for binary fractions: 0.1 + 0.2 + 0.3 + 0.4 is not exactly 1.
        if outcomes > 1 + 1e-9 {
            throw .invalid(
                "--decline-rate + --error-rate + --timeout-rate + --pending-rate",
                "must not sum above 1, got \(outcomes)")
        }
    }

    private func check(_ flag: String, _ value: Int, in range: ClosedRange<Int>) throws(MockPaymentsError) {
        guard range.contains(value) else {
            throw .invalid(flag, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }
}
