import Foundation
import Synchronization

/// Where the queue reads the time for its schedule: retry and delay due times, heartbeats, and
/// the rescuer's "has this worker gone quiet" test.
///
/// Those times are written by one host and compared by another (a worker schedules a retry that
/// the scheduler's leader promotes; a worker heartbeats and the leader decides it is dead). With
/// each host's own clock, a worker whose clock ran a minute behind would look dead to a leader
/// with visibility timeouts under a minute, and its jobs would run twice. So in production the
/// scripts read Redis's clock (`TIME`) themselves: one clock for every host.
public enum JobClock: Sendable {
    /// Redis's clock, read inside each script.
    case redis
    /// A clock the caller moves, so tests can drive retries, delays and rescues.
    case manual(ManualJobClock)

    /// The manual clock's time; nil on Redis's clock.
    var manualMilliseconds: Int? {
        switch self {
        case .redis: nil
        case .manual(let clock): clock.nowMilliseconds()
        }
    }

    /// The scripts' `now` argument: the manual clock's time, or 0, which they read as "Redis's
    /// time" (see `QueueScripts.now`).
    var scriptArgument: Int { manualMilliseconds ?? 0 }

    /// This host's idea of now, for the one time that decides nothing: the enqueue time in a
    /// job's envelope, from which the worker that takes the job reports its pickup latency. That
    /// metric does compare the enqueuing host's clock with the worker's, so their skew shows in
    /// it (clamped at zero); the manual clock's time in tests.
    var localMilliseconds: Int { manualMilliseconds ?? Int(Date().timeIntervalSince1970 * 1000) }
}

/// A clock that only moves when told to. Its time is always after the epoch: the scripts read
/// a time of 0 as "ask Redis".
public final class ManualJobClock: Sendable {
    private let now: Mutex<Int>

    public init(milliseconds: Int) {
        precondition(milliseconds > 0, "a manual job clock starts after the epoch")
        now = Mutex(milliseconds)
    }

    public func nowMilliseconds() -> Int { now.withLock { $0 } }

    public func advance(milliseconds: Int) {
        now.withLock {
            precondition($0 + milliseconds > 0, "a manual job clock stays after the epoch")
            $0 += milliseconds
        }
    }
}
