import CurlHTTP
import JobQueue
import Logging
import OpenRunGate
import Postgres
import Redis
import Settings
import ShopJobs

/// The worker role: its payment client, its job handlers and the workers that run them, built in
/// one place from the settings and the stores, for `fastest-shop worker`, the workers of `dev`
/// and `demo`, and the benchmarks that run the real handlers.
public final class WorkerRole: Sendable {
    public struct Configuration: Sendable {
        /// How to reach the payment provider; nil in a process that charges nothing (the charge
        /// and refund handlers are then not registered).
        public var payments: PaymentClient.Configuration?
        public var paymentWindowSeconds: Int
        /// `payments.callback_grace_s`: how long past its window an order awaiting a callback waits.
        public var callbackGraceSeconds: Int
        /// Of every worker ``WorkerRole/makeWorker(logger:)`` makes (each gets its own worker id).
        public var worker: JobWorker.Configuration
        /// Idle connections the payment client keeps open to the provider.
        public var maxIdleConnections: Int

        public init(
            payments: PaymentClient.Configuration?, paymentWindowSeconds: Int, callbackGraceSeconds: Int = 0,
            worker: JobWorker.Configuration, maxIdleConnections: Int = 256
        ) {
            self.payments = payments
            self.paymentWindowSeconds = paymentWindowSeconds
            self.callbackGraceSeconds = callbackGraceSeconds
            self.worker = worker
            self.maxIdleConnections = maxIdleConnections
        }

        /// `payments.*` and `worker.*`; a worker taking the payments queue needs `payments.secret`.
        public init(settings: ShopSettings) throws {
            if settings.worker.queues.contains("payments") { try settings.require("payments.secret", settings.payments.secret) }
            self.init(
                payments: PaymentClient.Configuration(
                    url: settings.payments.url, secret: settings.payments.secret,
                    timeoutMilliseconds: settings.payments.timeoutMilliseconds,
                    connectTimeoutMilliseconds: settings.payments.connectTimeoutMilliseconds),
                paymentWindowSeconds: settings.payments.windowSeconds,
                callbackGraceSeconds: settings.payments.callbackGraceSeconds,
                worker: JobWorker.Configuration(
                    queues: settings.worker.queues, concurrency: settings.worker.concurrency,
                    heartbeatMilliseconds: settings.worker.heartbeatMilliseconds,
                    shutdownGraceSeconds: Double(settings.worker.shutdownGraceSeconds)))
        }
    }

    public let configuration: Configuration
    /// The handlers by job kind (only kinds the queue's catalog defines).
    public let handlers: [String: any JobHandler]
    private let queue: JobQueue
    /// The payment client's transfers; nil when the role charges nothing.
    private let http: CurlHTTPClient?

    /// `gate`: where settlements hand released open-run units back; nil where no admission gate
    /// runs (the benchmarks' orders are not the gate's).
    public init(
        configuration: Configuration, pool: PostgresPool, redis: RedisClient, queue: JobQueue, gate: AdmissionGate?,
        httpName: String = "payments-http"
    ) {
        self.configuration = configuration
        self.queue = queue
        let http = configuration.payments.map { _ in
            CurlHTTPClient(name: httpName, maxIdleConnections: configuration.maxIdleConnections)
        }
        self.http = http
        let payments: PaymentClient? =
            if let client = configuration.payments, let http { PaymentClient(configuration: client, http: http) } else { nil }
        var returnUnits: SettlementFollowUp.ReturnUnits?
        if let gate { returnUnits = { try await gate.returnUnits(dropID: $0, count: $1) } }
        handlers = WorkerHandlers.make(
            .init(
                pool: pool, redis: redis, queue: queue, payments: payments,
                paymentWindowSeconds: configuration.paymentWindowSeconds,
                callbackGraceSeconds: configuration.callbackGraceSeconds,
                returnUnits: returnUnits))
    }

    /// A worker running this role's handlers; call it again for more workers in one process.
    public func makeWorker(logger: Logger) -> JobWorker {
        var worker = configuration.worker
        worker.workerID = JobWorker.makeWorkerID()
        return JobWorker(queue: queue, handlers: handlers, configuration: worker, logger: logger)
    }

    /// Stops the payment client's transfer thread, once the workers have stopped.
    public func shutdown() {
        http?.shutdown()
    }
}
