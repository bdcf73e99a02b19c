import Logging
import Synchronization

/// Acknowledges finished jobs in batches, off the runners' path: a runner hands over a finished
/// job and moves on; one flush at a time sends everything handed over so far in one script call
/// (group commit, for Redis). A failed flush (Redis restarting) is retried until it succeeds,
/// because an unacknowledged job of a live worker would otherwise stay in flight forever.
/// A crash before a flush only means the job runs again: delivery is at-least-once.
final class Acknowledger: Sendable {
    private struct State {
        var pending: [Job] = []
        var flushing = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let queue: JobQueue
    private let worker: String
    private let logger: Logger
    private let acknowledged: @Sendable ([Job]) -> Void
    private let state = Mutex(State())

    /// `acknowledged` learns of every batch once Redis has it.
    init(queue: JobQueue, worker: String, logger: Logger, acknowledged: @escaping @Sendable ([Job]) -> Void) {
        self.queue = queue
        self.worker = worker
        self.logger = logger
        self.acknowledged = acknowledged
    }

    func acknowledge(_ job: Job) {
        let startFlush = state.withLock { state -> Bool in
            state.pending.append(job)
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        if startFlush { Task { await self.flush() } }
    }

    /// Returns once everything handed over so far is acknowledged (graceful shutdown).
    func drain() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.pending.isEmpty && !state.flushing { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func flush() async {
        var failures = 0
        while true {
            let (batch, waiters) = state.withLock { state -> ([Job], [CheckedContinuation<Void, Never>]) in
                let batch = state.pending
                state.pending.removeAll(keepingCapacity: true)
                guard batch.isEmpty else { return (batch, []) }
                state.flushing = false
                defer { state.drainWaiters.removeAll() }
                return ([], state.drainWaiters)
            }
            if batch.isEmpty {
                for waiter in waiters { waiter.resume() }
                return
            }
            while true {
                do {
                    try await queue.acknowledge(batch, worker: worker)
                    acknowledged(batch)
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
        }
    }
}
