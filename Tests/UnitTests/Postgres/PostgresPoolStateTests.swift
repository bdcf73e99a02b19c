import Testing

@testable import Postgres

/// The pool's checkout decisions, with waiters as plain names.
@Suite struct PostgresPoolStateTests {
    typealias State = PostgresPoolState<String>

    func slot(_ checkout: State.Checkout?) -> Int? {
        if case .use(let slot) = checkout { return slot }
        return nil
    }

    @Test func freeSlotsAreHandedOutUntilNoneIsLeft() {
        var state = State(size: 2)
        #expect(slot(state.checkoutIfFree()) == 0)
        #expect(slot(state.checkoutIfFree()) == 1)
        #expect(state.checkoutIfFree() == nil, "both busy: the caller must wait")
    }

    @Test func waitersAreServedInArrivalOrderByReturnedSlots() {
        var state = State(size: 1)
        #expect(slot(state.checkoutIfFree()) == 0)
        let first = state.ticket()
        let second = state.ticket()
        #expect(isWait(state.checkout(ticket: first, waiter: "first")))
        #expect(isWait(state.checkout(ticket: second, waiter: "second")))
        let handoff = state.checkin(0)
        #expect(handoff?.waiter == "first" && handoff?.slot == 0)
        #expect(state.checkin(0)?.waiter == "second")
        #expect(state.checkin(0) == nil, "nobody waits: the slot is free again")
        #expect(state.free == [0])
    }

    @Test func aWaitThatTimesOutLeavesTheQueueAndTheOthersKeepTheirPlace() {
        var state = State(size: 1)
        _ = state.checkoutIfFree()
        let tickets = (0..<3).map { _ in state.ticket() }
        for (ticket, name) in zip(tickets, ["a", "b", "c"]) { _ = state.checkout(ticket: ticket, waiter: name) }
        #expect(state.expire(ticket: tickets[1]) == "b", "the queued waiter is returned, to be failed")
        #expect(state.waitingCount == 2)
        #expect(state.checkin(0)?.waiter == "a")
        #expect(state.checkin(0)?.waiter == "c")
    }

    @Test func aTimerThatFiresBeforeTheWaitIsQueuedStillEndsIt() {
        var state = State(size: 1)
        _ = state.checkoutIfFree()
        let ticket = state.ticket()
        #expect(state.expire(ticket: ticket) == nil)
        let checkout = state.checkout(ticket: ticket, waiter: "late")
        guard case .timedOut = checkout else {
            Issue.record("expected timedOut, got \(checkout)")
            return
        }
        #expect(state.waitingCount == 0, "a timed-out caller never queues")
    }

    @Test func aTimerThatFiresAfterTheWaitWasServedChangesNothing() {
        var state = State(size: 1)
        _ = state.checkoutIfFree()
        let ticket = state.ticket()
        _ = state.checkout(ticket: ticket, waiter: "served")
        #expect(state.checkin(0)?.waiter == "served")
        #expect(state.expire(ticket: ticket) == nil)
        // The next caller with the same slot is not affected by the stale timer.
        #expect(state.checkin(0) == nil)
        let next = state.ticket()
        #expect(slot(state.checkout(ticket: next, waiter: "next")) == 0)
    }

    @Test func closingFailsEveryWaiterAndEveryLaterCheckout() {
        var state = State(size: 1)
        _ = state.checkoutIfFree()
        for name in ["a", "b"] { _ = state.checkout(ticket: state.ticket(), waiter: name) }
        #expect(state.close() == ["a", "b"])
        #expect(isClosed(state.checkoutIfFree()))
        #expect(isClosed(state.checkout(ticket: state.ticket(), waiter: "after")))
    }

    func isWait(_ checkout: State.Checkout) -> Bool {
        if case .wait = checkout { return true }
        return false
    }

    func isClosed(_ checkout: State.Checkout?) -> Bool {
        if case .closed = checkout { return true }
        return false
    }
}
