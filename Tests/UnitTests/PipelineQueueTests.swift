import Testing

@testable import Redis

/// The pipelining connection's decisions, with requests as plain tokens: who starts a drain,
/// what each round trip sends, when the drain ends, and what shutdown refuses.
@Suite struct PipelineQueueTests {
    typealias Queue = PipelineQueue<String>

    func batch(_ action: Queue.TakeAction) -> [String]? {
        if case .roundTrip(let requests) = action { return requests }
        return nil
    }

    func isIdle(_ action: Queue.TakeAction) -> Bool {
        if case .idle = action { return true }
        return false
    }

    @Test func theFirstRequestStartsADrainAndTheNextOnesRideAlongInOrder() {
        var queue = Queue()
        #expect(queue.enqueue("a") == .startDrain)
        #expect(queue.enqueue("b") == .none, "a drain is already scheduled")
        #expect(batch(queue.takeBatch()) == ["a", "b"], "one round trip for everything queued, in order")
        #expect(queue.enqueue("c") == .none, "the running drain takes it next")
        #expect(queue.enqueue("d") == .none)
        #expect(batch(queue.takeBatch()) == ["c", "d"])
        #expect(isIdle(queue.takeBatch()))
        #expect(!queue.drainScheduled)
        #expect(queue.enqueue("e") == .startDrain, "after the drain ended, the next request starts one")
    }

    @Test func aDrainAboutToYieldStaysScheduled() {
        var queue = Queue()
        #expect(queue.enqueue("a") == .startDrain)
        #expect(batch(queue.takeBatch(mayGoIdle: false)) == ["a"])
        guard case .empty = queue.takeBatch(mayGoIdle: false) else {
            Issue.record("an empty queue the drain will check again must not end it")
            return
        }
        #expect(queue.drainScheduled)
        #expect(queue.enqueue("b") == .none, "the yielding drain picks it up: no second drain")
        #expect(batch(queue.takeBatch(mayGoIdle: false)) == ["b"])
        #expect(isIdle(queue.takeBatch(mayGoIdle: true)))
    }

    @Test func aBrokenConnectionHandsWhatIsQueuedToAFreshDrain() {
        var queue = Queue()
        _ = queue.enqueue("a")
        _ = queue.takeBatch()
        _ = queue.enqueue("b")
        let takeOver = queue.connectionBroke()
        #expect(takeOver, "b waits: a new drain must take over")
        #expect(queue.enqueue("c") == .none, "the drain taking over sends it too")
        #expect(batch(queue.takeBatch()) == ["b", "c"])
        let takeOverEmpty = queue.connectionBroke()
        #expect(!takeOverEmpty, "nothing queued: the drain just ends")
        #expect(queue.enqueue("d") == .startDrain)
    }

    @Test func anAbandonedDrainHandsBackEverythingQueuedToFail() {
        var queue = Queue()
        _ = queue.enqueue("a")
        _ = queue.enqueue("b")
        #expect(queue.abandon() == ["a", "b"])
        #expect(queue.queued.isEmpty && !queue.drainScheduled)
        #expect(queue.enqueue("c") == .startDrain, "the next request tries again")
    }

    @Test func closingRefusesNewRequestsButSendsTheQueuedOnes() {
        var queue = Queue()
        _ = queue.enqueue("a")
        _ = queue.enqueue("b")
        queue.close()
        #expect(queue.enqueue("c") == .refuse)
        #expect(batch(queue.takeBatch()) == ["a", "b"], "queued before the shutdown: still sent")
        #expect(isIdle(queue.takeBatch()))
        #expect(queue.enqueue("d") == .refuse, "no drain is started once closed")
    }
}
