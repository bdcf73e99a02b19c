import Foundation
import JobQueue
import Logging
import Metrics
import Postgres
import ServiceLifecycle
import ShopDomain
import ShopJobs
import Storage

/// `fastest-shop scheduler`: exactly one active leader at a time does the periodic work.
///
/// Every scheduler process runs this service; the one holding the ``LeaderLock`` ticks, the
/// others check every tick whether they can take over. A tick promotes due jobs, rescues jobs of
/// dead workers, opens and closes drops on time, enqueues close jobs, and reconciles: any work
/// PostgreSQL says is pending but Redis does not hold is enqueued again, so losing Redis's data
/// loses no work. Enqueues use unique keys, so overlapping leaders never enqueue work twice.
public final class SchedulerService: Service {
    public struct Configuration: Sendable {
        public var tickMilliseconds: Int
        /// Orders are reconciled every this many ticks (they can be many).
        public var orderReconcileEveryTicks: Int
        public var candidateName: String

        public init(tickMilliseconds: Int = 500, orderReconcileEveryTicks: Int = 10, candidateName: String) {
            self.tickMilliseconds = tickMilliseconds
            self.orderReconcileEveryTicks = orderReconcileEveryTicks
            self.candidateName = candidateName
        }
    }

    /// Work the scheduler hands to other parts of the system when a drop changes status.
    public protocol DropHooks: Sendable {
        /// Drops just opened (open-runs load their admission gate here).
        func opened(_ drops: [DropLifecycleStore.Moved]) async throws
        /// Open-runs just closed.
        func closed(_ drops: [DropLifecycleStore.Moved]) async throws
        /// Periodic repair of derived state (open-run gates from PostgreSQL).
        func reconcile() async throws
    }

    private let configuration: Configuration
    private let pool: PostgresPool
    private let queue: JobQueue
    private let lock: LeaderLock
    private let hooks: (any DropHooks)?
    private let logger: Logger
    private let leaderGauge = Gauge(label: "fastest_scheduler_leader")
    private let ticks = Counter(label: "fastest_scheduler_ticks_total")
    private let reEnqueued = Counter(label: "fastest_scheduler_reconcile_enqueued_total")
    private let rescuedJobs = Counter(label: "fastest_scheduler_rescued_jobs_total")

    public init(
        configuration: Configuration, pool: PostgresPool, queue: JobQueue, hooks: (any DropHooks)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.pool = pool
        self.queue = queue
        self.hooks = hooks
        self.lock = LeaderLock(configuration: pool.configuration, candidate: configuration.candidateName)
        var logger = logger
        logger[metadataKey: "scheduler"] = .string(configuration.candidateName)
        self.logger = logger
    }

    public func run() async throws {
        var tick = 0
        var term: Int?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if let current = term {
                    if await lock.isHeld() {
                        try await leaderTick(term: current, tick: tick)
                        tick += 1
                    } else {
                        logger.warning("lost leadership", metadata: ["term": .stringConvertible(current)])
                        term = nil
                        leaderGauge.record(0)
                    }
                } else if let acquired = try await lock.tryAcquire() {
                    term = acquired
                    tick = 0
                    leaderGauge.record(1)
                    logger.info("became leader", metadata: ["term": .stringConvertible(acquired)])
                }
            } catch {
                logger.warning("scheduler tick failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(configuration.tickMilliseconds))
        }
        if term != nil { await lock.release() }
        lock.shutdown()
        logger.info("scheduler stopped")
    }

    private func leaderTick(term: Int, tick: Int) async throws {
        ticks.increment()
        try await queue.promoteDueJobs()
        let (rescued, buried) = try await queue.rescueOrphanedJobs()
        if rescued + buried > 0 {
            rescuedJobs.increment(by: rescued + buried)
            logger.notice("rescued jobs of dead workers", metadata: ["rescued": .stringConvertible(rescued), "buried": .stringConvertible(buried)])
        }

        let opened = try await pool.withConnection { try DropLifecycleStore.openDueDrops($0, term: term) }
        if !opened.isEmpty {
            logger.info("opened drops", metadata: ["drops": .string(opened.map { String($0.dropID) }.joined(separator: ","))])
            try await hooks?.opened(opened)
        }
        let closed = try await pool.withConnection { try DropLifecycleStore.closeDueDrops($0, term: term) }
        if !closed.isEmpty {
            logger.info("closed drops", metadata: ["drops": .string(closed.map { String($0.dropID) }.joined(separator: ","))])
            let openRuns = closed.filter { $0.kind == .openRun }
            if !openRuns.isEmpty { try await hooks?.closed(openRuns) }
        }

        try await pool.withConnection { try DropLifecycleStore.settleIdleClosedOpenRuns($0, term: term) }

        // Every closing draw needs its close job; unique keys make this a no-op when queued.
        let closing = try await pool.withConnection { try DropLifecycleStore.closingDrops($0) }
        if !closing.isEmpty {
            let enqueued = try await queue.enqueue(closing.map { ShopJob.closeDrop(dropID: $0) })
            if enqueued > 0 {
                reEnqueued.increment(by: enqueued)
                logger.info("enqueued close jobs", metadata: ["count": .stringConvertible(enqueued)])
            }
        }

        if tick % configuration.orderReconcileEveryTicks == 0 {
            try await reconcileOrders()
            try await reconcileRefunds()
            try await hooks?.reconcile()
        }
    }

    /// Pending orders whose job Redis does not hold get it again.
    private func reconcileOrders() async throws {
        let pending = try await pool.withConnection { try DropLifecycleStore.pendingOrders($0, minimumAgeSeconds: 2) }
        guard !pending.isEmpty else { return }
        // Every pending order has an expiry, whatever its charge state: a charge job parked by a
        // provider's Retry-After (or lost) must not hold the unit past the payment window.
        let jobs = pending.flatMap { order in
            let expiry = ShopJob.expireOrder(orderID: order.orderID, atMilliseconds: order.expiresAtMilliseconds)
            return order.awaitingCallback ? [expiry] : [ShopJob.chargeOrder(orderID: order.orderID), expiry]
        }
        var enqueued = 0
        for start in stride(from: 0, to: jobs.count, by: 1000) {
            enqueued += try await queue.enqueue(Array(jobs[start..<min(start + 1000, jobs.count)]))
        }
        if enqueued > 0 {
            reEnqueued.increment(by: enqueued)
            logger.notice("reconcile re-enqueued order jobs", metadata: ["count": .stringConvertible(enqueued)])
        }
    }

    /// Money owed back is never forgotten: a refund whose job was lost (Redis flushed, a worker
    /// killed before enqueueing it, attempts run out) gets it again.
    /// Charges in doubt (an order that ended unsold while its last attempt got no answer) are
    /// asked again, so a charge the provider did make is found and refunded.
    private func reconcileRefunds() async throws {
        let (refunds, doubts) = try await pool.withConnection { connection in
            (try RefundStore.queued(connection, minimumAgeSeconds: 2), try OrderStore.chargesInDoubt(connection, minimumAgeSeconds: 2))
        }
        let jobs = refunds.map { ShopJob.refundOrder(orderID: $0) } + doubts.map { ShopJob.chargeOrder(orderID: $0) }
        var enqueued = 0
        for start in stride(from: 0, to: jobs.count, by: 1000) {
            enqueued += try await queue.enqueue(Array(jobs[start..<min(start + 1000, jobs.count)]))
        }
        if enqueued > 0 {
            reEnqueued.increment(by: enqueued)
            logger.notice("reconcile re-enqueued refund jobs", metadata: ["count": .stringConvertible(enqueued)])
        }
    }
}
