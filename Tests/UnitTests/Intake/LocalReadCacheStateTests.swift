import Testing

@testable import Intake

/// The local read cache's state, with time passed in: bounded, expiring, and never storing what
/// was read before an invalidation or while the invalidation subscription is down.
@Suite struct LocalReadCacheStateTests {
    static func liveState(capacity: Int = 3, ttl: UInt64 = 1000) -> LocalReadCacheState<String> {
        var state = LocalReadCacheState<String>(capacity: capacity, timeToLiveNanoseconds: ttl)
        state.setLive(true)
        return state
    }

    @Test func theOldestEntryIsEvictedPastTheCapacity() {
        var state = Self.liveState(capacity: 3)
        for key in ["a", "b", "c", "d"] { state.store(key.uppercased(), for: key, ticket: state.ticket()!, now: 0) }
        #expect(state.count == 3)
        #expect(state.value(for: "a", now: 1) == nil)
        #expect(state.value(for: "b", now: 1) == "B")
        #expect(state.value(for: "d", now: 1) == "D")
    }

    @Test func storingAKeyAgainNeitherGrowsTheCacheNorEvictsByItsOldPlace() {
        var state = Self.liveState(capacity: 2)
        // Many times over the capacity: the order queue is compacted, the count stays at one.
        for round in 0..<1000 { state.store("v\(round)", for: "a", ticket: state.ticket()!, now: UInt64(round)) }
        #expect(state.count == 1)
        #expect(state.value(for: "a", now: 1000) == "v999")
        state.store("B", for: "b", ticket: state.ticket()!, now: 1000)
        state.store("C", for: "c", ticket: state.ticket()!, now: 1000)
        // "a" (stored first) goes, not "b".
        #expect(state.count == 2)
        #expect(state.value(for: "a", now: 1001) == nil)
        #expect(state.value(for: "b", now: 1001) == "B")
        #expect(state.value(for: "c", now: 1001) == "C")
    }

    @Test func anEntryExpiresAfterItsTimeToLive() {
        var state = Self.liveState(ttl: 1000)
        state.store("A", for: "a", ticket: state.ticket()!, now: 5000)
        #expect(state.value(for: "a", now: 5999) == "A")
        #expect(state.value(for: "a", now: 6000) == nil)
        #expect(state.count == 0)
    }

    @Test func aValueReadBeforeAnInvalidationIsNotStored() {
        var state = Self.liveState()
        let ticket = state.ticket()!
        state.invalidate("other")
        state.store("old", for: "a", ticket: ticket, now: 0)
        #expect(state.value(for: "a", now: 1) == nil)
        state.store("new", for: "a", ticket: state.ticket()!, now: 0)
        #expect(state.value(for: "a", now: 1) == "new")
        state.invalidate("a")
        #expect(state.value(for: "a", now: 1) == nil)
    }

    @Test func withoutTheSubscriptionNothingIsServedOrStored() {
        var state = LocalReadCacheState<String>(capacity: 3, timeToLiveNanoseconds: 1000)
        #expect(state.ticket() == nil)
        state.setLive(true)
        let ticket = state.ticket()!
        state.store("A", for: "a", ticket: ticket, now: 0)
        #expect(state.value(for: "a", now: 1) == "A")
        // Lost: emptied, nothing handed out or kept, not even with a ticket from before.
        state.setLive(false)
        #expect(state.value(for: "a", now: 1) == nil)
        #expect(state.ticket() == nil)
        state.store("A", for: "a", ticket: ticket, now: 1)
        #expect(state.count == 0)
        // Back: starts empty, an old ticket still refused.
        state.setLive(true)
        state.store("A", for: "a", ticket: ticket, now: 1)
        #expect(state.count == 0)
    }
}
