import Synchronization

/// The worker's runner tasks and the job each one is running, with its deadline.
///
/// Runners are tasks of their own so that a job that overruns its timeout can be cancelled
/// alone: the watchdog cancels that runner (its job sees the cancellation) and starts a
/// replacement, instead of racing every job against a timer of its own.
final class RunnerRegistry: Sendable {
    struct Runner {
        var task: Task<Void, Never>?
        var job: Job?
        var deadline: ContinuousClock.Instant?
        var timedOut = false
    }

    private struct State {
        var runners: [Int: Runner] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Registers and starts a runner running `body(id)`; it deregisters itself when done.
    func start(_ body: @escaping @Sendable (Int) async -> Void) {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            state.runners[state.nextID] = Runner()
            return state.nextID
        }
        let task = Task {
            await body(id)
            _ = self.state.withLock { $0.runners.removeValue(forKey: id) }
        }
        state.withLock { state in
            if state.runners[id] != nil { state.runners[id]?.task = task }
        }
    }

    func begin(_ id: Int, job: Job, deadline: ContinuousClock.Instant) {
        state.withLock {
            $0.runners[id]?.job = job
            $0.runners[id]?.deadline = deadline
        }
    }

    func end(_ id: Int) {
        state.withLock {
            $0.runners[id]?.job = nil
            $0.runners[id]?.deadline = nil
        }
    }

    func timedOut(_ id: Int) -> Bool { state.withLock { $0.runners[id]?.timedOut ?? false } }

    /// Marks runners whose job passed its deadline as timed out and returns their tasks.
    func expire(now: ContinuousClock.Instant) -> [Task<Void, Never>] {
        state.withLock { state in
            var expired: [Task<Void, Never>] = []
            for (id, runner) in state.runners where !runner.timedOut {
                if let deadline = runner.deadline, deadline < now, let task = runner.task {
                    state.runners[id]?.timedOut = true
                    expired.append(task)
                }
            }
            return expired
        }
    }

    var busyJobs: [Job] { state.withLock { $0.runners.values.compactMap(\.job) } }
    var isIdle: Bool { state.withLock { $0.runners.values.allSatisfy { $0.job == nil } } }
    var tasks: [Task<Void, Never>] { state.withLock { $0.runners.values.compactMap(\.task) } }
}
