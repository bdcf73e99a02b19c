import Testing

@testable import Intake

/// What an instance remembers between trips to the shared rate-limit buckets: one lease asked
/// for at a time and spent locally until it runs out or expires, refusals kept until a token is
/// due, bounded memory.
@Suite struct TokenLeasesTests {
    let start = ContinuousClock.now

    @Test func aLeaseCoversFiftyMillisecondsOfTheRateAndAtMostAnEighthOfTheBurst() {
        // 2,000/s with a burst of 4,000 (the default per-address limit): 100 tokens per lease.
        #expect(TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000).leaseSize == 100)
        // A burst of 80 caps it at 10.
        #expect(TokenLeases<String>(intervalMicroseconds: 500, burst: 80).leaseSize == 10)
        // 20/s (the default per-customer limit): no lease, every request asks for its own token.
        var customers = TokenLeases<Int>(intervalMicroseconds: 50_000, burst: 40)
        #expect(customers.leaseSize == 1)
        #expect(customers.take(7, now: start) == .askShared(tokens: 1))
        #expect(customers.take(7, now: start) == .askShared(tokens: 1))
    }

    @Test func aLeaseIsSpentLocallyThenTheSharedBucketIsAskedAgain() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        leases.record("a", taken: 5, now: start)
        for _ in 0..<4 { #expect(leases.take("a", now: start) == .allowed) }
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        // Another key has no lease.
        #expect(leases.take("b", now: start) == .askShared(tokens: 100))
    }

    @Test func whileALeaseIsOnItsWayOtherRequestsAskForTheirOwnTokenOnly() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        // A crowd arriving at once cannot turn the shared bucket into a hundred leases.
        for _ in 0..<50 { #expect(leases.take("a", now: start) == .askShared(tokens: 1)) }
        // Their answers come first and leave nothing behind; then the lease arrives.
        leases.record("a", taken: 1, now: start)
        #expect(leases.take("a", now: start) == .askShared(tokens: 1))
        leases.record("a", taken: 100, now: start)
        for _ in 0..<99 { #expect(leases.take("a", now: start) == .allowed) }
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        // A lease that never answers (the call failed) stops blocking leases after a window.
        #expect(leases.take("a", now: start + .milliseconds(10)) == .askShared(tokens: 1))
        #expect(leases.take("a", now: start + .milliseconds(60)) == .askShared(tokens: 100))
    }

    @Test func aRefusedRequestTakesATokenLeasedMeanwhile() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        #expect(leases.take("a", now: start) == .askShared(tokens: 1))
        // The lease took the bucket's last tokens, so the second request's ask was refused.
        leases.record("a", taken: 3, now: start)
        let tookLeased = leases.recordRefusal("a", waitMicroseconds: 10_000, now: start)
        #expect(tookLeased)
        #expect(leases.take("a", now: start) == .allowed)
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        // With nothing leased, a refusal is a refusal and is remembered.
        let refusedAfterAll = !leases.recordRefusal("a", waitMicroseconds: 10_000, now: start)
        #expect(refusedAfterAll)
        #expect(leases.take("a", now: start) == .refused(retryAfterSeconds: 1))
    }

    @Test func oneTokenTakenLeavesNoLease() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        #expect(leases.take("a", now: start) == .askShared(tokens: 100))
        leases.record("a", taken: 1, now: start)
        #expect(leases.entries["a"] == .leasing(until: start + TokenLeases<String>.window))
        #expect(leases.take("a", now: start + TokenLeases<String>.window) == .askShared(tokens: 100))
    }

    @Test func anExpiredLeaseIsNotSpent() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        leases.record("a", taken: 100, now: start)
        #expect(leases.take("a", now: start + .milliseconds(49)) == .allowed)
        #expect(leases.take("a", now: start + TokenLeases<String>.window) == .askShared(tokens: 100))
    }

    @Test func aRefusalIsAnsweredLocallyUntilATokenIsDue() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        let refused = !leases.recordRefusal("a", waitMicroseconds: 1_500_000, now: start)
        #expect(refused)
        #expect(leases.take("a", now: start) == .refused(retryAfterSeconds: 2))
        #expect(leases.take("a", now: start + .milliseconds(1_000)) == .refused(retryAfterSeconds: 1))
        #expect(leases.take("a", now: start + .milliseconds(1_500)) == .askShared(tokens: 100))
    }

    @Test func memoryStaysWithinTheCapacityAndExpiredEntriesMakeRoom() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000, capacity: 2)
        for key in ["a", "b", "c"] { leases.record(key, taken: 10, now: start) }
        #expect(leases.entries.count == 2)
        // The key that found no room asks for its own token each time, as without leases.
        #expect(leases.take("c", now: start) == .askShared(tokens: 1))
        // Once the leases have expired, a new key is kept again.
        let later = start + .milliseconds(60)
        leases.record("c", taken: 10, now: later)
        #expect(leases.entries.keys.sorted() == ["c"])
        #expect(leases.take("c", now: later) == .allowed)
    }
}
