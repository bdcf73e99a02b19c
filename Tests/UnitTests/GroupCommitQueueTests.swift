import Testing

@testable import Postgres

/// The group-commit writer's scheduling decisions, with requests and drain waiters as plain tokens.
@Suite struct GroupCommitQueueTests {
    typealias Queue = GroupCommitQueue<Int, String>

    func started(_ action: Queue.EnqueueAction) -> Queue.Batch? {
        if case .start(let batch) = action { return batch }
        return nil
    }

    func isQueued(_ action: Queue.EnqueueAction) -> Bool {
        if case .queued = action { return true }
        return false
    }

    @Test func aLoneRequestIsCommittedAtOnce() {
        var queue = Queue(maxBatch: 10, writers: 2)
        let batch = started(queue.enqueue(1))
        #expect(batch?.items == [1] && batch?.writer == 0)
        #expect(queue.committing == 1)
    }

    @Test func requestsArrivingDuringACommitFormTheNextBatchOfTheSameWriter() {
        var queue = Queue(maxBatch: 10, writers: 2)
        let first = started(queue.enqueue(1))
        // While that batch commits, the next ones wait: no second writer for a partial batch.
        for request in 2...5 { #expect(isQueued(queue.enqueue(request))) }
        #expect(queue.committing == 1)
        let (next, drained) = queue.finished(writer: first!.writer)
        #expect(next.count == 1 && next[0].items == [2, 3, 4, 5])
        #expect(next[0].writer == first!.writer, "the writer carries on under its own slot")
        #expect(drained.isEmpty)
        // Nothing queued when that one ends: the writer stops.
        #expect(queue.finished(writer: next[0].writer).batches.isEmpty)
        #expect(queue.committing == 0)
    }

    @Test func aFullBatchWaitingStartsAnotherWriterUpToTheLimit() {
        var queue = Queue(maxBatch: 3, writers: 2)
        let first = started(queue.enqueue(0))!
        #expect(isQueued(queue.enqueue(1)) && isQueued(queue.enqueue(2)))
        // The third waiting request makes a full batch: its commit may overlap the first.
        let second = started(queue.enqueue(3))
        #expect(second?.items == [1, 2, 3])
        #expect(second?.writer == 1, "batches committing together have different writers")
        #expect(queue.committing == 2)
        // Every writer busy: even full batches wait, however many.
        for request in 4...9 { #expect(isQueued(queue.enqueue(request))) }
        #expect(queue.committing == 2)
        let (next, _) = queue.finished(writer: first.writer)
        #expect(next.map(\.items) == [[4, 5, 6]], "never more than maxBatch")
        #expect(next.map(\.writer) == [first.writer])
        #expect(Array(queue.queued) == [7, 8, 9])
    }

    @Test func aWriterEndsWhenAnotherCommitsAndNoFullBatchWaits() {
        var queue = Queue(maxBatch: 3, writers: 2)
        let first = started(queue.enqueue(0))!
        _ = queue.enqueue(1)
        _ = queue.enqueue(2)
        let second = started(queue.enqueue(3))!
        _ = queue.enqueue(4)
        // The second writer still commits: the first stops, request 4 waits for the second.
        #expect(queue.finished(writer: first.writer).batches.isEmpty)
        #expect(queue.committing == 1 && Array(queue.queued) == [4])
        #expect(queue.finished(writer: second.writer).batches.map(\.items) == [[4]])
    }

    @Test func closingRefusesNewRequestsAndReleasesTheWaiterOnceDrained() {
        var queue = Queue(maxBatch: 3, writers: 2)
        let first = started(queue.enqueue(0))!
        _ = queue.enqueue(1)
        guard case .wait(let start) = queue.close(waiter: "shutdown") else {
            Issue.record("closed while a batch commits: the closer must wait")
            return
        }
        // On close, an idle writer takes the partial batch at once instead of waiting.
        #expect(start.map(\.items) == [[1]] && start.map(\.writer) == [1])
        if case .refused = queue.enqueue(2) {} else { Issue.record("a request after close must be refused") }
        let afterFirst = queue.finished(writer: first.writer)
        #expect(afterFirst.batches.isEmpty && afterFirst.drained.isEmpty, "the other batch still commits")
        #expect(queue.finished(writer: start[0].writer).drained == ["shutdown"])
    }

    @Test func closingAnIdleQueueIsDrainedAtOnce() {
        var queue = Queue(maxBatch: 3, writers: 1)
        if case .drained = queue.close(waiter: "a") {} else { Issue.record("nothing queued: drained at once") }
        if case .drained = queue.close(waiter: "b") {} else { Issue.record("closing twice is harmless") }
    }

    @Test func afterCloseTheLastWriterDrainsEverythingQueued() {
        var queue = Queue(maxBatch: 2, writers: 1)
        let first = started(queue.enqueue(0))!
        for request in 1...4 { _ = queue.enqueue(request) }
        guard case .wait(let start) = queue.close(waiter: "shutdown") else {
            Issue.record("closed while a batch commits: the closer must wait")
            return
        }
        #expect(start.isEmpty, "the only writer is busy")
        let second = queue.finished(writer: first.writer)
        #expect(second.batches.map(\.items) == [[1, 2]] && second.drained.isEmpty)
        let third = queue.finished(writer: first.writer)
        #expect(third.batches.map(\.items) == [[3, 4]] && third.drained.isEmpty)
        #expect(queue.finished(writer: first.writer).drained == ["shutdown"])
    }
}
