import JobQueue
import Logging
import Postgres
import ShopJobs
import Storage

/// Work PostgreSQL says is pending but Redis may have lost is enqueued again, so losing Redis's
/// data loses no order and no money: pending orders get their charge and expiry jobs, queued
/// refunds their refund job, and charges in doubt are asked again. Unique keys make every job
/// that is still held a no-op.
public struct OrderReconciler: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        /// Charge and expiry jobs of pending orders.
        public let orderJobs: Int
        public let refundJobs: Int
        /// Charges asked again because their order ended unsold while an attempt got no answer.
        public let doubtChecks: Int
        public var counts: [(name: String, value: Int)] {
            [("order_jobs", orderJobs), ("refund_jobs", refundJobs), ("doubt_checks", doubtChecks)]
        }
    }

    public let name = "order_reconciler"
    public let interval: Duration
    let pool: PostgresPool
    let queue: JobQueue
    let logger: Logger

    public init(pool: PostgresPool, queue: JobQueue, interval: Duration, logger: Logger) {
        self.pool = pool
        self.queue = queue
        self.interval = interval
        self.logger = logger
    }

    public func runOnce(term: Int) async throws -> Outcome {
        let orderJobs = try await reconcileOrders()
        let (refundJobs, doubtChecks) = try await reconcileRefunds()
        return Outcome(orderJobs: orderJobs, refundJobs: refundJobs, doubtChecks: doubtChecks)
    }

    /// Pending orders whose job Redis does not hold get it again.
    private func reconcileOrders() async throws -> Int {
        let pending = try await pool.withConnection { try DropLifecycleStore.pendingOrders($0, minimumAgeSeconds: 2) }
        guard !pending.isEmpty else { return 0 }
        // Every pending order has an expiry, whatever its charge state: a charge job parked by a
        // provider's Retry-After (or lost) must not hold the unit past the payment window.
        let jobs = pending.flatMap { order in
            let expiry = ShopJob.expireOrder(orderID: order.orderID, atMilliseconds: order.expiresAtMilliseconds)
            return order.awaitingCallback ? [expiry] : [ShopJob.chargeOrder(orderID: order.orderID), expiry]
        }
        let enqueued = try await enqueue(jobs)
        if enqueued > 0 {
            logger.notice("reconcile re-enqueued order jobs", metadata: ["count": .stringConvertible(enqueued)])
        }
        return enqueued
    }

    /// Money owed back is never forgotten: a refund whose job was lost (Redis flushed, a worker
    /// killed before enqueueing it, attempts run out) gets it again.
    /// Charges in doubt (an order that ended unsold while its last attempt got no answer) are
    /// asked again, so a charge the provider did make is found and refunded.
    private func reconcileRefunds() async throws -> (refunds: Int, doubts: Int) {
        let (refunds, doubts) = try await pool.withConnection { connection in
            (try RefundStore.queued(connection, minimumAgeSeconds: 2), try OrderStore.chargesInDoubt(connection, minimumAgeSeconds: 2))
        }
        let refundJobs = try await enqueue(refunds.map { ShopJob.refundOrder(orderID: $0) })
        let doubtChecks = try await enqueue(doubts.map { ShopJob.chargeOrder(orderID: $0) })
        if refundJobs + doubtChecks > 0 {
            logger.notice("reconcile re-enqueued refund jobs", metadata: ["count": .stringConvertible(refundJobs + doubtChecks)])
        }
        return (refundJobs, doubtChecks)
    }

    /// In slices of a thousand: one script call per slice, not one for every pending order.
    private func enqueue(_ jobs: [ShopJob]) async throws -> Int {
        var enqueued = 0
        for start in stride(from: 0, to: jobs.count, by: 1000) {
            enqueued += try await queue.enqueue(Array(jobs[start..<min(start + 1000, jobs.count)]))
        }
        return enqueued
    }
}
