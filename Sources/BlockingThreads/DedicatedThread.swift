import Foundation

/// One operating-system thread that runs submitted work items one at a time, in order.
///
/// Blocking C calls (libpq, hiredis, libcurl) must never run on NIO event loops or on Swift's
/// cooperative pool: a blocked cooperative thread starves every other task in the process. A
/// `DedicatedThread` owns one C handle for its whole life, so the handle is only ever touched from
/// one thread and async callers hop to it through ``run(_:)``.
public final class DedicatedThread: @unchecked Sendable {
    public let name: String
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    private var pendingHead = 0
    private var stopping = false
    private var finished = false
    private let onExit: (@Sendable () -> Void)?

    /// - Parameter onExit: runs on the thread after its last work item, before ``shutdown()``
    ///   returns (to close what the thread owns on the thread itself).
    public init(name: String, onExit: (@Sendable () -> Void)? = nil) {
        self.name = name
        self.onExit = onExit
        // The thread holds the object strongly: it lives until `shutdown()` ends the loop.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Runs `body` on this thread and returns its result to the awaiting task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = submit {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: DedicatedThreadStopped(name: name))
            }
        }
    }

    /// Queues `work`; returns false when the thread is shutting down and will not run it.
    @discardableResult
    public func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        pending.append(work)
        condition.signal()
        return true
    }

    /// Runs what is already queued, then ends the thread. Waits until it has ended.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while pendingHead == pending.count && !stopping { condition.wait() }
            if pendingHead == pending.count && stopping {
                // `stopping` refuses new work, so nothing is queued behind this.
                condition.unlock()
                onExit?()
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let work = pending[pendingHead]
            pendingHead += 1
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            }
            condition.unlock()
            work()
        }
    }
}

public struct DedicatedThreadStopped: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "thread \(name) is shutting down and accepts no more work" }
}
