import Foundation

/// One blocking call on a thread of its own, for work that must neither wait for another
/// thread's queue nor hold up the caller's thread: asking PostgreSQL to cancel a statement
/// (PQcancel connects and waits for the server's answer, which a hung server never sends).
public enum DetachedThread {
    public static func run(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread { work() }
        thread.name = name
        thread.start()
    }
}
