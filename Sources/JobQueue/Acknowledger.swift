import Logging
import Synchronization

/// Acknowledges finished jobs in batches: the first caller to arrive sends everything queued
/// so far in one script call, later callers join the next batch (group commit, for Redis).
/// A failed flush (Redis restarting) is retried until it succeeds, because an unacknowledged
/// job of a live worker would otherwise stay in flight forever.
final class Acknowledger: Sendable {
    private struct Waiting {
        let job: Job
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var flushing = false
    }

    private let queue: JobQueue
    private let worker: String
    private let logger: Logger
    private let state = Mutex(State())

    init(queue: JobQueue, worker: String, logger: Logger) {
        self.queue = queue
        self.worker = worker
        self.logger = logger
    }

    func acknowledge(_ job: Job) async {
        await withCheckedContinuation { continuation in
            let becomeFlusher = state.withLock { state -> Bool in
                state.waiting.append(Waiting(job: job, continuation: continuation))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if becomeFlusher {
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        var failures = 0
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = state.waiting
                state.waiting.removeAll(keepingCapacity: true)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            while true {
                do {
                    try await queue.acknowledge(batch.map(\.job), worker: worker)
                    failures = 0
                    break
                } catch {
                    failures += 1
                    if failures == 1 || failures % 20 == 0 {
                        logger.warning("acknowledging \(batch.count) jobs failed; retrying", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: .milliseconds(min(50 * failures, 1000)))
                }
            }
            for waiting in batch { waiting.continuation.resume() }
        }
    }
}
