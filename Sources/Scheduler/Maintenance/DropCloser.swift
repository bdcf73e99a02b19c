import JobQueue
import Logging
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// Ends drops on time: open → closing (draws, raffles) or closed (open-runs, whose gates close
/// with them); closed open-runs with nothing pending → settled; and every closing draw gets its
/// close job (unique keys make that a no-op while the job is queued or running).
public struct DropCloser: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        public let closed: [DropLifecycleStore.Moved]
        /// Open-runs moved closed → settled.
        public let settled: Int
        /// Close jobs this run put in the queue (0 for those already there).
        public let closeJobsEnqueued: Int
        public var counts: [(name: String, value: Int)] {
            [("closed", closed.count), ("settled", settled), ("close_jobs_enqueued", closeJobsEnqueued)]
        }
    }

    public let name = "drop_closer"
    public let interval: Duration
    let pool: PostgresPool
    let queue: JobQueue
    let hooks: (any DropHooks)?
    let logger: Logger

    public init(pool: PostgresPool, queue: JobQueue, hooks: (any DropHooks)?, interval: Duration, logger: Logger) {
        self.pool = pool
        self.queue = queue
        self.hooks = hooks
        self.interval = interval
        self.logger = logger
    }

    public func runOnce(term: Int) async throws -> Outcome {
        let closed = try await pool.withConnection { try DropLifecycleStore.closeDueDrops($0, term: term) }
        if !closed.isEmpty {
            logger.info("closed drops", metadata: ["drops": .string(closed.map { String($0.dropID) }.joined(separator: ","))])
            let openRuns = closed.filter { $0.kind == .openRun }
            if !openRuns.isEmpty { try await hooks?.closed(openRuns) }
        }

        let settled = try await pool.withConnection { try DropLifecycleStore.settleIdleClosedOpenRuns($0, term: term) }

        // Every closing draw needs its close job, also one whose job Redis lost.
        let closing = try await pool.withConnection { try DropLifecycleStore.closingDrops($0) }
        var enqueued = 0
        if !closing.isEmpty {
            enqueued = try await queue.enqueue(closing.map { ShopJob.closeDrop(dropID: $0) })
            if enqueued > 0 { logger.info("enqueued close jobs", metadata: ["count": .stringConvertible(enqueued)]) }
        }
        return Outcome(closed: closed, settled: settled, closeJobsEnqueued: enqueued)
    }
}
