import Foundation
import Synchronization

/// Where the queue reads the time. Scripts receive the time as an argument (not Redis `TIME`) so
/// tests can drive retries, delays and rescues with a clock they control.
public protocol JobClock: Sendable {
    func nowMilliseconds() -> Int
}

public struct SystemJobClock: JobClock {
    public init() {}
    public func nowMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
}

/// A clock that only moves when told to.
public final class ManualJobClock: JobClock {
    private let now: Mutex<Int>
    public init(milliseconds: Int) { now = Mutex(milliseconds) }
    public func nowMilliseconds() -> Int { now.withLock { $0 } }
    public func advance(milliseconds: Int) { now.withLock { $0 += milliseconds } }
}
