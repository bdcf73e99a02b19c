import Hummingbird
import Logging
import ServiceLifecycle

/// The mock payment provider: a real HTTP server that answers charge webhooks with configurable
/// outcomes, sends signed callbacks for pending charges, and counts every successful charge per
/// Idempotency-Key and per order, so that tests can prove nobody was charged twice.
///
/// Run it once, as a `Service` (in a `ServiceGroup`, or by calling ``run()``); graceful shutdown
/// stops it. With port 0, ``waitUntilListening()`` tells the port it bound. The counters and
/// charges are readable in-process as well as over HTTP.
public final class MockPaymentProvider: Service, Sendable {
    public let configuration: MockPaymentsConfiguration
    private let logger: Logger
    private let ledger = ChargeLedger()
    private let callbacks: CallbackSender
    private let listeningPort = ListeningPort()

    /// Throws when a configuration value is out of range, naming its flag.
    public init(configuration: MockPaymentsConfiguration, logger: Logger) throws(MockPaymentsError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        callbacks = CallbackSender(configuration: configuration, ledger: ledger, logger: logger)
    }

    public func run() async throws {
        defer { listeningPort.stop() }
        let routes = MockPaymentsRoutes(
            chargePath: configuration.chargePath,
            charges: ChargeEndpoint(
                secret: configuration.secret,
                signatureToleranceSeconds: configuration.signatureToleranceSeconds,
                timeoutHoldMilliseconds: configuration.timeoutHoldMilliseconds,
                policy: OutcomePolicy(configuration),
                ledger: ledger,
                callbacks: callbacks),
            ledger: ledger)
        let listeningPort = listeningPort
        let application = Application(
            router: routes.makeRouter(),
            // Benchmarks open hundreds of connections at once; a short backlog would drop SYNs.
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), backlog: 4096),
            services: [callbacks],
            onServerRunning: { channel in listeningPort.announce(channel.localAddress?.port ?? 0) },
            logger: logger)
        // The seed replays a run; it is not a secret.
        logger.info("mock-payments starting", metadata: ["seed": "\(configuration.seed)"])
        try await application.run()
    }

    /// The port the server listens on, once it does; throws if it stopped (or failed to bind) first.
    public func waitUntilListening() async throws(MockPaymentsError) -> Int {
        try await listeningPort.wait()
    }

    /// The counters since start or the last ``reset()``.
    public func stats() -> MockPaymentsStats {
        ledger.stats
    }

    /// The charges answered for an order, in the order they were answered.
    public func charges(orderID: Int) -> [ChargeRecord] {
        ledger.records(orderID: orderID)
    }

    /// The charge answered under an Idempotency-Key, if any.
    public func charge(idempotencyKey: String) -> ChargeRecord? {
        ledger.record(idempotencyKey: idempotencyKey)
    }

    /// Money kept per order (charged − refunded, in cents), as the provider's ledger has it.
    public func keptByOrder() -> [Int: Int] {
        ledger.keptByOrder
    }

    /// Forgets every answered charge and counter, as `POST /v1/reset` does.
    public func reset() {
        ledger.reset()
    }
}
