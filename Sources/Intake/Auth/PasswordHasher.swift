import BlockingThreads
import HummingbirdBcrypt
import Synchronization

/// bcrypt on threads of its own. A bcrypt round takes tens of milliseconds of CPU by design; on
/// an event loop or the cooperative pool it would stall every other request meanwhile.
public final class PasswordHasher: Sendable {
    private let threads: [DedicatedThread]
    private let next = Atomic<Int>(0)
    private let cost: UInt8
    /// A real hash of a random password: login checks unknown emails against it, so a failed
    /// login costs one bcrypt verification whether or not the account exists.
    private let dummyHash: String
    /// Called after each verification (for metrics).
    private let onVerify: @Sendable () -> Void

    public init(cost: Int, threads: Int, onVerify: @escaping @Sendable () -> Void = {}) async throws {
        precondition((4...31).contains(cost) && threads > 0)
        self.cost = UInt8(cost)
        self.onVerify = onVerify
        self.threads = (0..<threads).map { DedicatedThread(name: "bcrypt-\($0)") }
        let cost = self.cost
        dummyHash = try await self.threads[0].run { Bcrypt.hash(String(UInt64.random(in: .min ... .max)), cost: cost) }
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await thread().run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it still spends the
    /// same work and answers false.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let dummy = dummyHash
        // bcrypt stops at a NUL; a password holding one never matches (the same work is spent).
        let truncated = password.utf8.contains(0)
        let matches = try await thread().run {
            guard let hash, !truncated else {
                _ = Bcrypt.verify(password, hash: dummy)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
        onVerify()
        return matches
    }

    public func shutdown() {
        for thread in threads { thread.shutdown() }
    }

    private func thread() -> DedicatedThread {
        threads[next.wrappingAdd(1, ordering: .relaxed).oldValue % threads.count]
    }
}
