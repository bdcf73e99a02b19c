import DequeModule

/// ``WorkerDispatch``'s state as a plain value: each operation changes it and returns whom to
/// wake with what, and the caller resumes them outside its lock. Generic over the waiting
/// parties, so the logic is tested with plain tokens instead of tasks (no services, no timing).
struct DispatchState<Runner, RoomWaiter> {
    /// Jobs this worker may still take: its capacity less the jobs buffered, running, or reserved
    /// by a fetch under way.
    private(set) var room: Int
    private(set) var buffered: Deque<Job> = []
    private var idleRunners: Deque<Runner> = []
    private var roomWaiters: Deque<(limit: Int, waiter: RoomWaiter)> = []
    private(set) var closed = false

    init(capacity: Int) { room = capacity }

    enum ReserveAction {
        /// Room for this many jobs is the caller's (0 once closed).
        case granted(Int)
        /// No room yet; the waiter is granted some later, or 0 when the dispatch closes.
        case wait
    }

    /// A fetcher asks for room for up to `limit` jobs.
    mutating func reserve(upTo limit: Int, waiter: RoomWaiter) -> ReserveAction {
        if closed { return .granted(0) }
        if room > 0 {
            let take = min(room, limit)
            room -= take
            return .granted(take)
        }
        roomWaiters.append((limit, waiter))
        return .wait
    }

    /// Room given back (unused reservations, finished jobs): the waiters it lets in, and how much each got.
    mutating func addRoom(_ count: Int) -> [(RoomWaiter, Int)] {
        guard count > 0 else { return [] }
        room += count
        var grants: [(RoomWaiter, Int)] = []
        while room > 0, let next = roomWaiters.popFirst() {
            let take = min(room, next.limit)
            room -= take
            grants.append((next.waiter, take))
        }
        return grants
    }

    /// Fetched jobs: those idle runners take at once (runner, job); the rest are buffered.
    mutating func deliver(_ jobs: [Job]) -> [(Runner, Job)] {
        var handoffs: [(Runner, Job)] = []
        for job in jobs {
            if let runner = idleRunners.popFirst() {
                handoffs.append((runner, job))
            } else {
                buffered.append(job)
            }
        }
        return handoffs
    }

    enum NextAction: Equatable {
        case run(Job)
        /// Closed and drained: the runner ends.
        case stop
        /// Nothing buffered: the runner is handed the next delivered job, or stopped on close.
        case wait
    }

    /// A runner asks for its next job.
    mutating func next(runner: Runner) -> NextAction {
        if let job = buffered.popFirst() { return .run(job) }
        if closed { return .stop }
        idleRunners.append(runner)
        return .wait
    }

    /// Stops handing out jobs: the buffered jobs no runner started (to hand back), the idle
    /// runners to stop and the fetchers waiting for room (granted 0).
    mutating func close() -> (jobs: [Job], runners: [Runner], waiters: [RoomWaiter]) {
        closed = true
        defer {
            buffered.removeAll()
            idleRunners.removeAll()
            roomWaiters.removeAll()
        }
        return (Array(buffered), Array(idleRunners), roomWaiters.map(\.waiter))
    }
}
