/// Bounds how many tests of one kind run at once. Tests run in parallel on a machine with two
/// cores: a few whole deployments or thousand-buyer rushes at once would starve every other
/// test of CPU, and tests that wait for something to happen "within a while" would fail for
/// want of a turn, not for a defect.
actor TestSlots {
    /// Intake servers: each holds PostgreSQL connections and threads.
    static let intakeServers = TestSlots(limit: 4)
    /// Tests that load the machine: whole deployments as processes, rushes of thousands.
    static let heavy = TestSlots(limit: 2)
    /// Private PostgreSQL and Redis instances: each begins with an initdb, seconds of CPU.
    static let scratchServices = TestSlots(limit: 2)

    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { free = limit }

    /// Runs `body` once a slot is free, and frees it afterwards.
    nonisolated func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}
