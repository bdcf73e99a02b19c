import Synchronization

/// Hands fetched jobs to the worker's runners and tells fetchers how much room there is.
///
/// A fixed set of runner tasks takes jobs from here (no task is created per job), and fetchers
/// reserve room before taking jobs from Redis, so a worker never holds more jobs than it runs.
/// The decisions are ``DispatchState``'s; this type only keeps it under a lock and resumes the
/// tasks it names, outside the lock.
final class WorkerDispatch: Sendable {
    private typealias State = DispatchState<CheckedContinuation<Job?, Never>, CheckedContinuation<Int, Never>>

    private let state: Mutex<State>

    init(capacity: Int) { state = Mutex(State(capacity: capacity)) }

    /// Waits until there is room for at least one job; reserves up to `limit`. 0 once closed.
    func reserve(upTo limit: Int) async -> Int {
        await withCheckedContinuation { continuation in
            let action = state.withLock { $0.reserve(upTo: limit, waiter: continuation) }
            if case .granted(let granted) = action { continuation.resume(returning: granted) }
        }
    }

    /// Returns reserved room that was not used.
    func unreserve(_ count: Int) { addRoom(count) }

    /// Gives jobs to idle runners, buffering the rest.
    func deliver(_ jobs: [Job]) {
        let handoffs = state.withLock { $0.deliver(jobs) }
        for (runner, job) in handoffs { runner.resume(returning: job) }
    }

    /// The next job for a runner; nil once closed and drained.
    func next() async -> Job? {
        await withCheckedContinuation { continuation in
            switch state.withLock({ $0.next(runner: continuation) }) {
            case .run(let job): continuation.resume(returning: job)
            case .stop: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    /// A runner finished a job: its room is free again.
    func finished() { addRoom(1) }

    /// Stops handing out jobs; returns the buffered jobs no runner started (to hand back).
    func close() -> [Job] {
        let (jobs, runners, waiters) = state.withLock { $0.close() }
        for runner in runners { runner.resume(returning: nil) }
        for waiter in waiters { waiter.resume(returning: 0) }
        return jobs
    }

    private func addRoom(_ count: Int) {
        let grants = state.withLock { $0.addRoom(count) }
        for (waiter, granted) in grants { waiter.resume(returning: granted) }
    }
}
