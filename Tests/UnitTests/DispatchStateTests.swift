import Testing

@testable import JobQueue

/// The worker's dispatch decisions, with runners and fetchers as plain tokens.
@Suite struct DispatchStateTests {
    typealias State = DispatchState<String, String>

    func jobs(_ ids: String...) -> [Job] {
        ids.map {
            Job(
                id: $0, kind: "work", queue: "main", attempt: 1, maxAttempts: 3, visibilityMilliseconds: 1000,
                enqueuedAtMilliseconds: 1, uniqueKey: nil, payload: "{}")
        }
    }

    func granted(_ action: State.ReserveAction) -> Int? {
        if case .granted(let count) = action { return count }
        return nil
    }

    @Test func aWorkerNeverHoldsMoreJobsThanItsCapacity() {
        var state = State(capacity: 3)
        #expect(granted(state.reserve(upTo: 2, waiter: "fetch-a")) == 2)
        #expect(granted(state.reserve(upTo: 5, waiter: "fetch-b")) == 1, "only what is left")
        #expect(granted(state.reserve(upTo: 5, waiter: "fetch-a")) == nil, "full: the fetcher waits")
        #expect(state.room == 0)
        // fetch-b's fetch found nothing: its room goes to the waiting fetcher.
        let grants = state.addRoom(1)
        #expect(grants.map(\.0) == ["fetch-a"] && grants.map(\.1) == [1])
        #expect(state.room == 0)
    }

    @Test func jobsGoToIdleRunnersFirstThenWaitInOrder() {
        var state = State(capacity: 4)
        #expect(state.next(runner: "r1") == .wait)
        let handoffs = state.deliver(jobs("a", "b", "c"))
        #expect(handoffs.map(\.0) == ["r1"] && handoffs.map(\.1.id) == ["a"])
        #expect(state.buffered.map(\.id) == ["b", "c"])
        #expect(state.next(runner: "r2") == .run(jobs("b")[0]))
        #expect(state.next(runner: "r3") == .run(jobs("c")[0]))
        #expect(state.next(runner: "r4") == .wait)
    }

    @Test func closingReturnsTheUnstartedJobsAndReleasesEveryoneWaiting() {
        var state = State(capacity: 1)
        #expect(granted(state.reserve(upTo: 1, waiter: "fetch-a")) == 1)
        #expect(granted(state.reserve(upTo: 1, waiter: "fetch-b")) == nil)
        #expect(state.next(runner: "r1") == .wait)
        #expect(state.next(runner: "r2") == .wait)
        _ = state.deliver(jobs("a"))  // r1 takes it
        _ = state.deliver(jobs("b"))  // r2 takes it
        _ = state.deliver(jobs("c"))  // buffered
        let (unstarted, runners, waiters) = state.close()
        #expect(unstarted.map(\.id) == ["c"], "handed back by the caller")
        #expect(runners.isEmpty && waiters == ["fetch-b"])
        #expect(state.next(runner: "r1") == .stop)
        #expect(granted(state.reserve(upTo: 1, waiter: "fetch-a")) == 0, "closed: no more room")
    }

    @Test func anIdleRunnerIsStoppedByTheClose() {
        var state = State(capacity: 2)
        #expect(state.next(runner: "r1") == .wait)
        #expect(state.close().runners == ["r1"])
    }
}
