import JobQueue
import Logging

/// Gives the jobs of workers that stopped heartbeating back to their queues, and buries those
/// that used their last attempt (``JobQueue/rescueOrphanedJobs()``).
public struct JobRescuer: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        public let rescued: Int
        public let buried: Int
        public var counts: [(name: String, value: Int)] { [("rescued", rescued), ("buried", buried)] }
    }

    public let name = "rescuer"
    public let interval: Duration
    let queue: JobQueue
    let logger: Logger

    public init(queue: JobQueue, interval: Duration, logger: Logger) {
        self.queue = queue
        self.interval = interval
        self.logger = logger
    }

    public func runOnce(term: Int) async throws -> Outcome {
        let (rescued, buried) = try await queue.rescueOrphanedJobs()
        if rescued + buried > 0 {
            logger.notice("rescued jobs of dead workers", metadata: ["rescued": .stringConvertible(rescued), "buried": .stringConvertible(buried)])
        }
        return Outcome(rescued: rescued, buried: buried)
    }
}
