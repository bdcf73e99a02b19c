import DequeModule
import Synchronization

/// Hands fetched jobs to the worker's runners and tells fetchers how much room there is.
///
/// A fixed set of runner tasks takes jobs from here (no task is created per job), and fetchers
/// reserve room before taking jobs from Redis, so a worker never holds more jobs than it runs.
final class WorkerDispatch: Sendable {
    private struct State {
        var room: Int
        var buffered: Deque<Job> = []
        var idleRunners: Deque<CheckedContinuation<Job?, Never>> = []
        var roomWaiters: Deque<(limit: Int, continuation: CheckedContinuation<Int, Never>)> = []
        var closed = false
    }

    private let state: Mutex<State>

    init(capacity: Int) { state = Mutex(State(room: capacity)) }

    /// Waits until there is room for at least one job; reserves up to `limit`. 0 once closed.
    func reserve(upTo limit: Int) async -> Int {
        await withCheckedContinuation { continuation in
            let granted: Int? = state.withLock { state in
                if state.closed { return 0 }
                if state.room > 0 {
                    let take = min(state.room, limit)
                    state.room -= take
                    return take
                }
                state.roomWaiters.append((limit, continuation))
                return nil
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    /// Returns reserved room that was not used.
    func unreserve(_ count: Int) { addRoom(count) }

    /// Gives jobs to idle runners, buffering the rest.
    func deliver(_ jobs: [Job]) {
        var handoffs: [(CheckedContinuation<Job?, Never>, Job)] = []
        state.withLock { state in
            for job in jobs {
                if let runner = state.idleRunners.popFirst() {
                    handoffs.append((runner, job))
                } else {
                    state.buffered.append(job)
                }
            }
        }
        for (runner, job) in handoffs { runner.resume(returning: job) }
    }

    /// The next job for a runner; nil once closed and drained.
    func next() async -> Job? {
        await withCheckedContinuation { continuation in
            let immediate: Job?? = state.withLock { state in
                if let job = state.buffered.popFirst() { return .some(job) }
                if state.closed { return .some(nil) }
                state.idleRunners.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// A runner finished a job: its room is free again.
    func finished() { addRoom(1) }

    /// Stops handing out jobs; returns the buffered jobs no runner started (to hand back).
    func close() -> [Job] {
        let (jobs, runners, waiters) = state.withLock { state in
            state.closed = true
            let jobs = Array(state.buffered)
            state.buffered.removeAll()
            let runners = Array(state.idleRunners)
            state.idleRunners.removeAll()
            let waiters = Array(state.roomWaiters)
            state.roomWaiters.removeAll()
            return (jobs, runners, waiters)
        }
        for runner in runners { runner.resume(returning: nil) }
        for waiter in waiters { waiter.continuation.resume(returning: 0) }
        return jobs
    }

    private func addRoom(_ count: Int) {
        guard count > 0 else { return }
        var grants: [(CheckedContinuation<Int, Never>, Int)] = []
        state.withLock { state in
            state.room += count
            while state.room > 0, let waiter = state.roomWaiters.popFirst() {
                let take = min(state.room, waiter.limit)
                state.room -= take
                grants.append((waiter.continuation, take))
            }
        }
        for (continuation, take) in grants { continuation.resume(returning: take) }
    }
}
