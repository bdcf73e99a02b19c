import DequeModule
import Synchronization

/// What a worker holds (an ``InFlightLedger``) and the turns its fetchers take to add to it.
///
/// Taking calls run one at a time, each claiming what it took before the next starts. That is what
/// makes re-reading the in-flight hash after a lost answer safe: while one fetcher re-reads, no
/// other fetcher's taking call is under way, so every job in the hash that the ledger does not
/// know is truly unknown, not one whose answer is still on its way to another fetcher.
final class Holdings: Sendable {
    private struct State {
        var ledger = InFlightLedger()
        var taking = false
        var waiting: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let state = Mutex(State())

    /// Runs `body` (a taking call) alone among taking calls, then claims what it returned; returns
    /// the jobs newly claimed, which are the caller's to run.
    func take(_ body: () async throws -> [Job]) async throws -> [Job] {
        await beginTurn()
        defer { endTurn() }
        let jobs = try await body()
        return state.withLock { $0.ledger.claim(jobs) }
    }

    /// The jobs of `jobs` not held (for a re-read, inside ``take(_:)``).
    func unknown(_ jobs: [Job]) -> [Job] { state.withLock { $0.ledger.unknown(jobs) } }

    /// The jobs' outcomes are recorded in Redis.
    func settle(_ jobs: [Job]) {
        guard !jobs.isEmpty else { return }
        state.withLock { $0.ledger.settle(jobs.lazy.map(\.id)) }
    }

    var count: Int { state.withLock { $0.ledger.count } }

    private func beginTurn() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if !state.taking {
                    state.taking = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func endTurn() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiting.popFirst() { return next }  // the turn passes on
            state.taking = false
            return nil
        }
        next?.resume()
    }
}
