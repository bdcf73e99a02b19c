import Foundation

/// One blocking call on a thread of its own, for work that must neither wait for another
/// thread's queue nor hold up the caller's thread: asking PostgreSQL to cancel a statement
/// (PQcancel connects and waits for the server's answer, which a hung server never sends), or a
/// benchmark waiting for a script that takes seconds.
public enum DetachedThread {
    public static func run(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread { work() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on a thread of its own and returns its result to the awaiting task.
    public static func value<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            run(name: name) { continuation.resume(with: Result { try body() }) }
        }
    }
}
