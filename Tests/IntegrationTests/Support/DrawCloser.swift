import Foundation
import JobQueue
import Logging
import ShopDomain
import ShopJobs
import Worker

/// Runs the real close job (`drop.close`, the worker's handler) on a drop in this process, with a
/// queue of its own under the stack's Redis prefix: a draw at scale without a worker process.
enum DrawCloser {
    static func close(_ stack: ShopStack, dropID: Int) async throws {
        let catalog = JobCatalog.drawInProcess
        let queue = JobQueue(redis: stack.redis, catalog: catalog, keyPrefix: stack.redisPrefix + "closer:")
        let handlers = WorkerHandlers.make(
            .init(
                pool: stack.pool, redis: stack.redis, queue: queue, payments: nil, paymentWindowSeconds: 900, returnUnits: nil))
        let job = Job(
            id: "test-close-\(dropID)", kind: ShopJob.closeDropKind, queue: "drops", attempt: 1, maxAttempts: 1,
            visibilityMilliseconds: 60_000, enqueuedAtMilliseconds: 0, uniqueKey: nil,
            payload: ShopJob.closeDrop(dropID: dropID).payload)
        try await handlers[ShopJob.closeDropKind]!.handle(JobContext(job: job, logger: Logger(label: "test-close")))
    }
}
