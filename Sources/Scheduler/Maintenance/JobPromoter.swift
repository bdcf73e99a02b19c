import JobQueue

/// Moves delayed jobs (retries, order expiries) whose time has come to their queues.
public struct JobPromoter: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        public let promoted: Int
        public var counts: [(name: String, value: Int)] { [("promoted", promoted)] }
    }

    public let name = "promoter"
    public let interval: Duration
    let queue: JobQueue

    public init(queue: JobQueue, interval: Duration) {
        self.queue = queue
        self.interval = interval
    }

    public func runOnce(term: Int) async throws -> Outcome {
        Outcome(promoted: try await queue.promoteDueJobs())
    }
}
