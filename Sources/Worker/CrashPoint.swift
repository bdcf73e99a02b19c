import Foundation

/// Named places where a worker can be made to die on purpose (`FASTEST_SHOP_CRASH_AT=<name>`),
/// so tests can prove that a worker killed at the worst moment loses nothing and charges nobody
/// twice. The process sends itself SIGKILL: no cleanup, no acknowledgement, exactly like a crash.
enum CrashPoint: String {
    /// The draw is computed, nothing is committed.
    case closeAfterDraw = "drop.close.after-draw"
    /// Orders are committed, their charge jobs are not enqueued.
    case closeAfterCommit = "drop.close.after-commit"
    /// The provider answered a charge, the answer is not recorded.
    case chargeAfterProvider = "order.charge.after-provider"

    private static let armed = ProcessInfo.processInfo.environment["FASTEST_SHOP_CRASH_AT"]

    func reached() {
        guard Self.armed == rawValue else { return }
        FileHandle.standardError.write(Data("crash point \(rawValue) reached: killing this worker\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
