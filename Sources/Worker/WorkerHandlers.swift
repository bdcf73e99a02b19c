import CurlHTTP
import JobQueue
import Postgres
import Redis
import ShopJobs

/// The handlers a worker process registers, by job kind. Kinds the catalog does not define are
/// left out, so a deployment chooses its kinds with its `jobs/` directory.
public enum WorkerHandlers {
    public struct Dependencies: Sendable {
        public let pool: PostgresPool
        public let redis: RedisClient
        public let queue: JobQueue
        /// nil in a process that charges nothing (the charge handler is then not registered).
        public let payments: PaymentClient?
        public let paymentWindowSeconds: Int
        public let returnUnits: SettlementFollowUp.ReturnUnits?
        /// `payments.callback_grace_s`: how long past its window an order awaiting a callback waits.
        public let callbackGraceSeconds: Int

        public init(
            pool: PostgresPool, redis: RedisClient, queue: JobQueue, payments: PaymentClient?,
            paymentWindowSeconds: Int, callbackGraceSeconds: Int = 0, returnUnits: SettlementFollowUp.ReturnUnits?
        ) {
            self.callbackGraceSeconds = callbackGraceSeconds
            self.pool = pool
            self.redis = redis
            self.queue = queue
            self.payments = payments
            self.paymentWindowSeconds = paymentWindowSeconds
            self.returnUnits = returnUnits
        }
    }

    public static func make(_ dependencies: Dependencies) -> [String: any JobHandler] {
        let settler = PaymentSettler(
            pool: dependencies.pool, paymentWindowSeconds: dependencies.paymentWindowSeconds,
            followUp: SettlementFollowUp(queue: dependencies.queue, returnUnits: dependencies.returnUnits))
        var handlers: [String: any JobHandler] = [
            ShopJob.closeDropKind: CloseDropHandler(
                pool: dependencies.pool, queue: dependencies.queue, paymentWindowSeconds: dependencies.paymentWindowSeconds),
            ShopJob.expireOrderKind: ExpireOrderHandler(
                pool: dependencies.pool, settler: settler, callbackGraceMilliseconds: dependencies.callbackGraceSeconds * 1000),
            "noop": NoopJobHandler(),
            "probe": ProbeJobHandler(redis: dependencies.redis),
        ]
        if let payments = dependencies.payments {
            handlers[ShopJob.chargeOrderKind] = ChargeOrderHandler(
                pool: dependencies.pool, payments: payments, settler: settler, queue: dependencies.queue,
                backoffCapMilliseconds: dependencies.queue.catalog[ShopJob.chargeOrderKind]?.backoffCapMilliseconds ?? 30_000,
                metrics: ChargeMetrics())
            handlers[ShopJob.refundOrderKind] = RefundOrderHandler(
                pool: dependencies.pool, payments: payments,
                backoffCapMilliseconds: dependencies.queue.catalog[ShopJob.refundOrderKind]?.backoffCapMilliseconds ?? 30_000)
        }
        return handlers.filter { dependencies.queue.catalog[$0.key] != nil }
    }
}
