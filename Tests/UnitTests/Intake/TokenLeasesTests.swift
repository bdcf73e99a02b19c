@testable import Intake
import Testing

/// What an instance remembers between trips to the shared rate-limit buckets: leases spent
/// locally until they run out or expire, refusals kept until a token is due, bounded memory.
@Suite struct TokenLeasesTests {
    let start = ContinuousClock.now

    @Test func aLeaseCoversFiftyMillisecondsOfTheRateAndAtMostAnEighthOfTheBurst() {
        // 2,000/s with a burst of 4,000 (the default per-address limit): 100 tokens per lease.
        #expect(TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000).leaseSize == 100)
        // A burst of 80 caps it at 10.
        #expect(TokenLeases<String>(intervalMicroseconds: 500, burst: 80).leaseSize == 10)
        // 20/s (the default per-customer limit): no lease, every request asks the shared bucket.
        #expect(TokenLeases<Int>(intervalMicroseconds: 50_000, burst: 40).leaseSize == 1)
    }

    @Test func aLeaseIsSpentLocallyThenTheSharedBucketIsAskedAgain() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        #expect(leases.take("a", now: start) == .askShared)
        leases.record("a", taken: 5, now: start)
        for _ in 0..<4 { #expect(leases.take("a", now: start) == .allowed) }
        #expect(leases.take("a", now: start) == .askShared)
        // Another key has no lease.
        #expect(leases.take("b", now: start) == .askShared)
    }

    @Test func leasesTakenByConcurrentRequestsAddUpAndARefusalKeepsThem() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        // Three requests found no lease and asked at once; two got leases, the third a refusal.
        leases.record("a", taken: 3, now: start)
        leases.record("a", taken: 4, now: start)
        leases.recordRefusal("a", waitMicroseconds: 10_000, now: start)
        for _ in 0..<5 { #expect(leases.take("a", now: start) == .allowed) }
        #expect(leases.take("a", now: start) == .askShared)
    }

    @Test func oneTokenTakenLeavesNoLease() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        leases.record("a", taken: 1, now: start)
        #expect(leases.entries.isEmpty)
        #expect(leases.take("a", now: start) == .askShared)
    }

    @Test func anExpiredLeaseIsNotSpent() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        leases.record("a", taken: 100, now: start)
        #expect(leases.take("a", now: start + .milliseconds(49)) == .allowed)
        #expect(leases.take("a", now: start + TokenLeases<String>.window) == .askShared)
        #expect(leases.entries["a"] == nil)
    }

    @Test func aRefusalIsAnsweredLocallyUntilATokenIsDue() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000)
        leases.recordRefusal("a", waitMicroseconds: 1_500_000, now: start)
        #expect(leases.take("a", now: start) == .refused(retryAfterSeconds: 2))
        #expect(leases.take("a", now: start + .milliseconds(1_000)) == .refused(retryAfterSeconds: 1))
        #expect(leases.take("a", now: start + .milliseconds(1_500)) == .askShared)
    }

    @Test func memoryStaysWithinTheCapacityAndExpiredEntriesMakeRoom() {
        var leases = TokenLeases<String>(intervalMicroseconds: 500, burst: 4_000, capacity: 2)
        for key in ["a", "b", "c"] { leases.record(key, taken: 10, now: start) }
        #expect(leases.entries.count == 2)
        // The key that found no room asks the shared bucket each time, as without leases.
        #expect(leases.take("c", now: start) == .askShared)
        // Once the leases have expired, a new key is kept again.
        let later = start + .milliseconds(60)
        leases.record("c", taken: 10, now: later)
        #expect(leases.entries.keys.sorted() == ["c"])
        #expect(leases.take("c", now: later) == .allowed)
    }
}
