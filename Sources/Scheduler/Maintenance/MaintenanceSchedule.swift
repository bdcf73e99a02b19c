/// When each maintenance service runs next: a plain value, so that the leader's loop is only a
/// loop, and the timing rules are testable without services or clocks of their own.
///
/// A service is due `interval` after its last run ended (as the single tick slept after its
/// work before), and every service is due at once when leadership begins.
struct MaintenanceSchedule {
    private let intervals: [Duration]
    private var next: [ContinuousClock.Instant]

    init(intervals: [Duration], start: ContinuousClock.Instant) {
        self.intervals = intervals
        self.next = Array(repeating: start, count: intervals.count)
    }

    /// The services due at `now`, in the order they were given.
    func due(at now: ContinuousClock.Instant) -> [Int] {
        next.indices.filter { next[$0] <= now }
    }

    /// Service `index` finished a run (succeeded or failed) at `end`.
    mutating func ran(_ index: Int, endedAt end: ContinuousClock.Instant) {
        next[index] = end + intervals[index]
    }

    /// How long to sleep from `now`: until the next service is due, never longer than `longest`.
    func pause(from now: ContinuousClock.Instant, atMost longest: Duration) -> Duration {
        guard let soonest = next.min() else { return longest }
        return max(.zero, min(longest, soonest - now))
    }
}
