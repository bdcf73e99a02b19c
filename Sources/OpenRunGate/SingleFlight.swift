import Synchronization

/// Work of which at most one runs per key at a time: callers who ask while it runs get the
/// running task instead of starting another (a rush on one gate reads PostgreSQL once).
final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let running = Mutex<[Key: Task<Value, any Error>]>([:])

    /// The task running for `key`, started with `work` if none is.
    func task(for key: Key, _ work: @escaping @Sendable () async throws -> Value) -> Task<Value, any Error> {
        running.withLock { running in
            if let task = running[key] { return task }
            let task = Task {
                // Takes the lock after the insertion below: the dictionary names a task only
                // while it runs.
                defer { _ = self.running.withLock { $0.removeValue(forKey: key) } }
                return try await work()
            }
            running[key] = task
            return task
        }
    }
}
