import JobQueue
import Logging
import ShopJobs

extension JobHandler {
    /// Runs `job` as a worker would on delivery number `attempt` of `maxAttempts` (a handler's
    /// last attempt may act differently, e.g. give up on a charge).
    func run(_ job: ShopJob, attempt: Int = 1, maxAttempts: Int = 10) async throws {
        try await handle(
            JobContext(
                job: Job(
                    id: "j\(attempt)", kind: job.kind, queue: "payments", attempt: attempt, maxAttempts: maxAttempts,
                    visibilityMilliseconds: 10_000, enqueuedAtMilliseconds: 1, uniqueKey: nil, payload: job.payload),
                logger: Logger(label: "test")))
    }
}
