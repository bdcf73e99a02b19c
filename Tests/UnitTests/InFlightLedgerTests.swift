import Testing

@testable import JobQueue

@Suite struct InFlightLedgerTests {
    func job(_ id: String, attempt: Int = 1) -> Job {
        Job(
            id: id, kind: "work", queue: "main", attempt: attempt, maxAttempts: 3, visibilityMilliseconds: 1000,
            enqueuedAtMilliseconds: 1, uniqueKey: nil, payload: "{}")
    }

    @Test func aJobIsClaimedOnceUntilItsOutcomeIsRecorded() {
        var ledger = InFlightLedger()
        #expect(ledger.claim([job("a"), job("b")]).map(\.id) == ["a", "b"])
        #expect(ledger.claim([job("b"), job("c")]).map(\.id) == ["c"], "b is already this worker's")
        #expect(ledger.claim([job("a", attempt: 2)]).isEmpty, "a rescued next attempt of a held job is not run twice at once")
        ledger.settle(["a"])
        #expect(ledger.claim([job("a", attempt: 2)]).map(\.attempt) == [2], "settled: the id may be taken again")
        #expect(ledger.count == 3)
    }

    @Test func aRereadFindsOnlyTheJobsTheWorkerDoesNotKnow() {
        var ledger = InFlightLedger()
        _ = ledger.claim([job("running")])
        let unknown = ledger.unknown([job("running"), job("lost"), job("lost"), job("landed")])
        #expect(unknown.map(\.id) == ["lost", "landed"])
        #expect(ledger.count == 1, "finding is not claiming")
        ledger.settle(["running"])
        #expect(ledger.unknown([job("running")]).map(\.id) == ["running"])
    }

    /// Taking calls take turns: a re-read never runs while another taking call's answer is on
    /// its way. (The first call holds its turn until the test lets it finish.)
    @Test func takingCallsTakeTurns() async throws {
        let holdings = Holdings()
        let (firstStarted, started) = AsyncStream.makeStream(of: Void.self)
        let (letFirstFinish, finish) = AsyncStream.makeStream(of: Void.self)
        let order = OrderRecorder()
        async let first = holdings.take {
            await order.record("first began")
            started.yield()
            for await _ in letFirstFinish { break }
            await order.record("first ended")
            return [job("x")]
        }
        for await _ in firstStarted { break }
        async let second = holdings.take {
            await order.record("second began")
            return holdings.unknown([job("x"), job("y")])
        }
        // Give the second call every chance to run early (it must not).
        for _ in 0..<100 { await Task.yield() }
        finish.yield()
        #expect(try await first.map(\.id) == ["x"])
        #expect(try await second.map(\.id) == ["y"], "x was claimed by the first call before the second looked")
        #expect(await order.events == ["first began", "first ended", "second began"])
        #expect(holdings.count == 2)
    }
}

private actor OrderRecorder {
    var events: [String] = []
    func record(_ event: String) { events.append(event) }
}
