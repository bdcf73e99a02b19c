import ArgumentParser
import Foundation
import MockPayments
import Settings

struct MockPaymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-payments",
        abstract: "A real HTTP payment provider for tests, demos and benchmarks.",
        discussion: """
            Answers charge webhooks at the path of payments.url, verifying them with payments.secret; \
            sends callbacks for pending charges signed with payments.callback_secret. Rates are fractions \
            of new charges; the four outcome rates must not sum above 1 (the rest succeed). Prints \
            'mock-payments: listening on http://HOST:PORT' once it listens. GET /v1/stats, \
            GET <path>?order_id=N, GET <path>/<idempotency-key> and POST /v1/reset inspect and clear it.
            """)

    /// The library's defaults, shown by --help.
    private static let defaults = MockPaymentsConfiguration(secret: "", callbackSecret: "")

    @OptionGroup var settings: SettingsOptions

    @Option(help: "Address to listen on (default: the host of payments.url).")
    var host: String?

    @Option(help: "Port to listen on, 0 for a free one (default: the port of payments.url).")
    var port: Int?

    @Option(help: "Milliseconds every charge answer waits.")
    var latencyMs = Self.defaults.latencyMilliseconds

    @Option(help: "Up to this many milliseconds more or less, at random.")
    var latencyJitterMs = Self.defaults.latencyJitterMilliseconds

    @Option(help: "Fraction of new charges declined.")
    var declineRate = Self.defaults.declineRate

    @Option(help: "Fraction of new charges answered 500 or 503 (nothing charged).")
    var errorRate = Self.defaults.errorRate

    @Option(help: "Fraction of new charges made, but answered only after --timeout-hold-ms.")
    var timeoutRate = Self.defaults.timeoutRate

    @Option(help: "Fraction of new charges answered pending, then settled by a callback.")
    var pendingRate = Self.defaults.pendingRate

    @Option(help: "Milliseconds a timeout charge holds its answer back.")
    var timeoutHoldMs = Self.defaults.timeoutHoldMilliseconds

    @Option(help: "Where callbacks go (default: /v1/payments/callback on http.host and http.port).")
    var callbackURL: String?

    @Option(help: "Milliseconds a pending charge waits before its callback.")
    var callbackDelayMs = Self.defaults.callbackDelayMilliseconds

    @Option(help: "Fraction of pending charges that succeed.")
    var pendingSuccessRate = Self.defaults.pendingSuccessRate

    @Option(help: "Fraction of callbacks delivered twice (same webhook-id).")
    var duplicateCallbackRate = Self.defaults.duplicateCallbackRate

    @Option(help: "Fraction of pending charges that succeed late: their charge.succeeded callback comes after --late-callback-delay-ms.")
    var lateSuccessRate = Self.defaults.lateSuccessRate

    @Option(help: "Milliseconds a late success waits before its callback.")
    var lateCallbackDelayMs = Self.defaults.lateCallbackDelayMilliseconds

    @Option(help: "Delivery attempts per callback.")
    var callbackAttempts = Self.defaults.callbackAttempts

    @Option(help: "Milliseconds before the second delivery attempt; doubles after each.")
    var callbackBackoffMs = Self.defaults.callbackBackoffMilliseconds

    @Option(help: "Milliseconds for one delivery attempt.")
    var callbackTimeoutMs = Self.defaults.callbackTimeoutMilliseconds

    @Option(help: "Seconds a charge's webhook-timestamp may be off.")
    var signatureToleranceS = Self.defaults.signatureToleranceSeconds

    @Option(help: "Seed of the outcomes; the same seed and keys give the same outcomes (default: random, logged).")
    var seed: UInt64?

    func run() async throws {
        let settings = try await settings.load()
        guard !settings.payments.secret.isEmpty else {
            throw ConfigurationError(key: "payments.secret", problem: "must be set: mock-payments verifies charge webhooks with it")
        }
        guard !settings.payments.callbackSecret.isEmpty else {
            throw ConfigurationError(key: "payments.callback_secret", problem: "must be set: mock-payments signs callbacks with it")
        }
        guard let chargeURL = URL(string: settings.payments.url), chargeURL.scheme == "http", let urlHost = chargeURL.host else {
            throw ConfigurationError(key: "payments.url", problem: "must be an http:// URL for mock-payments (it serves no TLS)")
        }
        var configuration = MockPaymentsConfiguration(
            host: host ?? urlHost,
            port: port ?? chargeURL.port ?? 80,
            chargePath: chargeURL.path.isEmpty ? "/" : chargeURL.path,
            secret: settings.payments.secret,
            callbackSecret: settings.payments.callbackSecret,
            signatureToleranceSeconds: signatureToleranceS,
            latencyMilliseconds: latencyMs,
            latencyJitterMilliseconds: latencyJitterMs,
            declineRate: declineRate,
            errorRate: errorRate,
            timeoutRate: timeoutRate,
            pendingRate: pendingRate,
            timeoutHoldMilliseconds: timeoutHoldMs,
            callbackURL: callbackURL ?? Self.intakeCallbackURL(settings),
            callbackDelayMilliseconds: callbackDelayMs,
            pendingSuccessRate: pendingSuccessRate,
            duplicateCallbackRate: duplicateCallbackRate,
            callbackAttempts: callbackAttempts,
            callbackBackoffMilliseconds: callbackBackoffMs,
            callbackTimeoutMilliseconds: callbackTimeoutMs)
        configuration.lateSuccessRate = lateSuccessRate
        configuration.lateCallbackDelayMilliseconds = lateCallbackDelayMs
        if let seed { configuration.seed = seed }

        let logger = ProcessSetup.logger(settings)
        let provider: MockPaymentProvider
        do throws(MockPaymentsError) {
            provider = try MockPaymentProvider(configuration: configuration, logger: logger)
        } catch {
            throw CommandFailure(message: error.description, exitCode: 2)
        }
        let address = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        try await withThrowingTaskGroup { group in
            group.addTask { try await ProcessSetup.run([provider], logger: logger) }
            group.addTask {
                // When the server fails to start, its own error is the one to report.
                guard let port = try? await provider.waitUntilListening() else { return }
                FileHandle.standardOutput.write(Data("mock-payments: listening on http://\(address):\(port)\n".utf8))
            }
            try await group.waitForAll()
        }
    }

    /// The intake API's callback route, where `serve` listens by default.
    private static func intakeCallbackURL(_ settings: ShopSettings) -> String {
        let host = ["", "0.0.0.0", "::"].contains(settings.http.host) ? "127.0.0.1" : settings.http.host
        let address = host.contains(":") ? "[\(host)]" : host
        return "http://\(address):\(settings.http.port)/v1/payments/callback"
    }
}
