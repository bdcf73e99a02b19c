import Testing

@testable import CurlHTTP

/// The curl client's submission queue, with requests as plain tokens: one wake-up per batch,
/// everything taken in order, and shutdown failing what the driver never started.
@Suite struct CurlSubmissionsTests {
    typealias Submissions = CurlSubmissions<String>

    func added(_ action: Submissions.TakeAction) -> [String]? {
        if case .add(let submissions) = action { return submissions }
        return nil
    }

    @Test func onlyTheFirstSubmissionOfABatchWakesTheDriver() {
        var submissions = Submissions()
        #expect(submissions.submit("a") == .wake)
        #expect(submissions.submit("b") == .none, "the driver is already woken and takes both")
        #expect(added(submissions.takeAll()) == ["a", "b"])
        #expect(submissions.submit("c") == .wake, "the driver took everything: it may be asleep again")
        #expect(added(submissions.takeAll()) == ["c"])
        #expect(added(submissions.takeAll()) == [], "a turn with nothing submitted adds nothing")
    }

    @Test func stoppingFailsWhatWasQueuedRefusesNewOnesAndStopsTheDriver() {
        var submissions = Submissions()
        _ = submissions.submit("a")
        _ = submissions.submit("b")
        #expect(submissions.stop() == ["a", "b"], "never started: the caller fails them")
        #expect(submissions.submit("c") == .refuse)
        guard case .stop = submissions.takeAll() else {
            Issue.record("the driver must stop")
            return
        }
        #expect(submissions.stop() == [], "a second shutdown has nothing left to fail")
    }
}
