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
    /// Passwords being hashed or waiting for a thread. The threads' queues are unbounded, so
    /// without this bound a login flood would grow memory and make every real login wait
    /// behind it; past the bound a request is turned away at once (503 with `Retry-After`).
    private let pending = Atomic<Int>(0)
    private let maxPending: Int

    public init(
        cost: Int, threads: Int, maxPending: Int = .max, onVerify: @escaping @Sendable () -> Void = {}
    ) async throws {
        precondition((4...31).contains(cost) && threads > 0 && maxPending > 0)
        self.cost = UInt8(cost)
        self.maxPending = maxPending
        self.onVerify = onVerify
        self.threads = (0..<threads).map { DedicatedThread(name: "bcrypt-\($0)") }
        let cost = self.cost
        dummyHash = try await self.threads[0].run { Bcrypt.hash(String(UInt64.random(in: .min ... .max)), cost: cost) }
    }

    public func hash(_ password: String) async throws -> String {
        try admit()
        defer { pending.subtract(1, ordering: .relaxed) }
        let cost = self.cost
        return try await thread().run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (unknown account) it still spends the
    /// same work and answers false.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        try admit()
        defer { pending.subtract(1, ordering: .relaxed) }
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

    /// Counts one more pending password, or refuses it when the bound is reached. The same for
    /// known and unknown emails, so the answer tells nothing about accounts.
    private func admit() throws {
        if pending.add(1, ordering: .relaxed).newValue > maxPending {
            pending.subtract(1, ordering: .relaxed)
            throw Problem(.unavailable, "too many logins and signups at once; try again shortly", retryAfterSeconds: 1)
        }
    }

    public func shutdown() {
        for thread in threads { thread.shutdown() }
    }

    private func thread() -> DedicatedThread {
        threads[next.wrappingAdd(1, ordering: .relaxed).oldValue % threads.count]
    }
}
