import Foundation
import Redis
import Testing

@testable import OpenRunGate

/// The admission gate's scripts against a real Redis: admission order, refusals, compensation,
/// and rebuilds that never move a gate backwards.
@Suite struct AdmissionGateTests {
    @Test func admitsWhileUnitsRemainOncePerCustomerInArrivalOrder() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            #expect(try await gate.admit(dropID: 1, userID: 10) == .missing)
            try await gate.reconcile(.init(dropID: 1, phase: .open, isOpen: true, available: 2, buyers: [7]))
            #expect(try await gate.admit(dropID: 1, userID: 7) == .alreadyPurchased)
            #expect(try await gate.admit(dropID: 1, userID: 10) == .admitted)
            #expect(try await gate.admit(dropID: 1, userID: 10) == .alreadyPurchased)
            #expect(try await gate.admit(dropID: 1, userID: 11) == .admitted)
            #expect(try await gate.admit(dropID: 1, userID: 12) == .soldOut)
            #expect(try await gate.state(dropID: 1)! == (true, 0, 2))
            try await gate.confirmed(dropID: 1, userID: 10)
            // 11's confirmation failed: the unit goes back and 11 may try again.
            try await gate.compensate(dropID: 1, userID: 11, keepBuyer: false)
            #expect(try await gate.state(dropID: 1)! == (true, 1, 0))
            #expect(try await gate.admit(dropID: 1, userID: 12) == .admitted)
            #expect(try await gate.admit(dropID: 1, userID: 11) == .soldOut)
        }
    }

    /// Redis ran the admission but its answer never came back: the request, having given up,
    /// undoes its own admission, so the customer (told to retry) is admitted again at once
    /// instead of being refused `already-purchased` until reconcile's horizon frees the unit.
    @Test func anAdmissionWhoseAnswerIsLostIsUndone() async throws {
        try await withRedisNamespace { redis, prefix in
            let direct = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await direct.reconcile(.init(dropID: 5, phase: .open, isOpen: true, available: 1, buyers: []))
            let proxy = try HoldingProxy(upstreamHost: redis.configuration.host, upstreamPort: redis.configuration.port)
            defer { proxy.stop() }
            var configuration = redis.configuration
            configuration.host = "127.0.0.1"
            configuration.port = proxy.port
            // (Long enough that Redis, busy with the rest of the suite, still admits in time.)
            configuration.commandTimeoutMilliseconds = 3_000
            let proxied = RedisClient(configuration: configuration, connections: 1)
            defer { proxied.shutdown() }
            let gate = AdmissionGate(redis: proxied, keyPrefix: prefix)
            // Everything that needs an answer before the admission has one: the clock's reading,
            // and both scripts in Redis's cache (loading one would wait for an answer).
            _ = try await gate.clock.now()
            #expect(try await gate.admit(dropID: 999, userID: 1) == .missing)
            #expect(try await gate.abandon(dropID: 5, userID: 42, token: 999_999) == false)

            proxy.hold()
            let admitting = Task { try await gate.admit(dropID: 5, userID: 42) }
            let admitted = try await eventually(within: 10, every: .milliseconds(5)) {
                try await direct.state(dropID: 5).map { $0 == (true, 0, 1) } ?? false
            }
            #expect(admitted, "Redis admitted the buyer; only its answer is held back")
            await #expect(throws: RedisError.self) { try await admitting.value }
            #expect(
                try await eventually { try await direct.state(dropID: 5).map { $0 == (true, 1, 0) } ?? false },
                "the unit is back and nothing is pending")
            proxy.release()
            #expect(try await direct.admit(dropID: 5, userID: 42) == .admitted, "the customer may buy at once")
        }
    }

    /// The undo is the admitting request's alone: another request's token undoes nothing, an
    /// admission already confirmed stays, and an undo works once.
    @Test func onlyTheAdmittingRequestCanUndoItsAdmission() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.reconcile(.init(dropID: 6, phase: .open, isOpen: true, available: 2, buyers: []))
            let deadline = try await gate.clock.now() + 5_000
            for (user, token) in [(1, 1001), (2, 1002)] {
                let reply = try await redis.run(GateScripts.admit, keys: gate.keys(6), arguments: [user, deadline, token])
                #expect(reply.string == "admitted")
            }
            #expect(try await gate.abandon(dropID: 6, userID: 1, token: 1002) == false, "another request's token")
            try await gate.confirmed(dropID: 6, userID: 2)
            #expect(try await gate.abandon(dropID: 6, userID: 2, token: 1002) == false, "confirmed: final")
            #expect(try await gate.state(dropID: 6)! == (true, 0, 1))
            #expect(try await gate.abandon(dropID: 6, userID: 1, token: 1001))
            #expect(try await gate.abandon(dropID: 6, userID: 1, token: 1001) == false, "once")
            #expect(try await gate.state(dropID: 6)! == (true, 1, 0))
            #expect(try await gate.admit(dropID: 6, userID: 1) == .admitted)
            #expect(try await gate.admit(dropID: 6, userID: 2) == .alreadyPurchased)
            // Reconcile forgets the owners of admissions it no longer counts as pending: one older
            // than the horizon, and (when it rebuilds a lost gate) all of them.
            try await gate.reconcile(.init(dropID: 6, phase: .open, isOpen: true, available: 2, buyers: [2]))
            let now = try await gate.clock.now()
            #expect(try await redis.run(GateScripts.admit, keys: gate.keys(6), arguments: [3, now + 5_000, 1003]).string == "admitted")
            try await redis.execute("ZADD", gate.pendingKey(6), now - 2 * AdmissionGate.pendingHorizonMilliseconds, "3")
            try await gate.reconcile(.init(dropID: 6, phase: .open, isOpen: true, available: 2, buyers: [2]))
            #expect(try await redis.send(RedisCommand("HEXISTS", gate.ownersKey(6), "3")).requireInt() == 0)
            #expect(try await redis.send(RedisCommand("HEXISTS", gate.ownersKey(6), "1")).requireInt() == 1, "1 is still pending")
            try await redis.execute("DEL", gate.gateKey(6))
            try await gate.reconcile(.init(dropID: 6, phase: .open, isOpen: true, available: 1, buyers: [2]))
            #expect(try await redis.send(RedisCommand("EXISTS", gate.ownersKey(6))).requireInt() == 0)
        }
    }

    @Test func aStaleSnapshotNeverMovesTheGateBackAPhase() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            // A purchase read PostgreSQL while the drop was still scheduled…
            let stale = AdmissionGate.Snapshot(dropID: 2, phase: .scheduled, isOpen: false, available: 5, buyers: [])
            // …and the scheduler opened it and loaded its gate before that rebuild reached Redis.
            try await gate.reconcile(.init(dropID: 2, phase: .open, isOpen: true, available: 5, buyers: []))
            #expect(try await gate.reconcile(stale) == false)
            #expect(try await gate.state(dropID: 2)?.isOpen == true)
            #expect(try await gate.admit(dropID: 2, userID: 1) == .admitted)
            // Closing is a later phase: it applies, and an open snapshot read before it does not.
            try await gate.close(dropID: 2)
            // (What it says about buyers still holds: 1's order exists, so 1 is no longer pending.)
            try await gate.reconcile(.init(dropID: 2, phase: .open, isOpen: true, available: 4, buyers: [1]))
            #expect(try await gate.state(dropID: 2)! == (false, 4, 0))
            #expect(try await gate.admit(dropID: 2, userID: 3) == .notOpen)
        }
    }

    @Test func reconcileRebuildsALostGateAndRepairsDrift() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.reconcile(.init(dropID: 3, phase: .open, isOpen: true, available: 3, buyers: []))
            #expect(try await gate.admit(dropID: 3, userID: 1) == .admitted)
            #expect(try await gate.admit(dropID: 3, userID: 2) == .admitted)
            // 1's order committed but its confirmation never reached Redis; 2 is still confirming.
            // A unit released in PostgreSQL whose return to the gate was lost: available is 2.
            #expect(try await gate.reconcile(.init(dropID: 3, phase: .open, isOpen: true, available: 2, buyers: [1])))
            #expect(try await gate.state(dropID: 3)! == (true, 1, 1), "remaining = available − pending, 1 no longer pending")
            // Redis lost everything: rebuilt from PostgreSQL's figures, buyers still refused.
            try await redis.execute("DEL", gate.gateKey(3), gate.buyersKey(3), gate.pendingKey(3))
            #expect(try await gate.reconcile(.init(dropID: 3, phase: .open, isOpen: true, available: 1, buyers: [1, 2])))
            #expect(try await gate.state(dropID: 3)! == (true, 1, 0))
            #expect(try await gate.admit(dropID: 3, userID: 2) == .alreadyPurchased)
            #expect(try await gate.admit(dropID: 3, userID: 4) == .admitted)
        }
    }

    @Test func refusalsForDropsWithoutAGateAreRememberedUntilARealGateReplacesThem() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.rememberNotForSale(dropID: 4, seconds: 60)
            #expect(try await gate.admit(dropID: 4, userID: 1) == .notOpen)
            try await gate.rememberUnknown(dropID: 5, seconds: 60)
            #expect(try await gate.admit(dropID: 5, userID: 1) == .notFound)
            #expect(try await gate.state(dropID: 5) == nil)
            let ttl = try await redis.send(RedisCommand("TTL", gate.gateKey(5))).requireInt()
            #expect(ttl > 0 && ttl <= 60)
            // The drop was created with that id: the memory ends, and a gate can be built.
            try await gate.forgetUnknown(dropID: 5)
            #expect(try await gate.admit(dropID: 5, userID: 1) == .missing)
            // A remembered refusal never overwrites a real gate…
            try await gate.reconcile(.init(dropID: 6, phase: .open, isOpen: true, available: 1, buyers: []))
            try await gate.rememberUnknown(dropID: 6, seconds: 60)
            #expect(try await gate.admit(dropID: 6, userID: 1) == .admitted)
            // …and a rebuild replaces a remembered refusal, which then lives for good.
            try await gate.rememberUnknown(dropID: 7, seconds: 60)
            #expect(try await gate.reconcile(.init(dropID: 7, phase: .open, isOpen: true, available: 2, buyers: [])))
            #expect(try await gate.admit(dropID: 7, userID: 1) == .admitted)
            #expect(try await redis.send(RedisCommand("TTL", gate.gateKey(7))).requireInt() == -1)
        }
    }

    /// A Redis that hung with an admission in its socket runs it after the client gave up: the
    /// script sees its deadline passed and decides nothing, so no unit is held and nobody is
    /// locked out by an admission no one will confirm.
    @Test func anAdmissionReachedAfterTheClientsDeadlineDecidesNothing() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.reconcile(.init(dropID: 8, phase: .open, isOpen: true, available: 1, buyers: []))
            let now = AdmissionGate.nowMilliseconds()
            let late = try await redis.run(GateScripts.admit, keys: gate.keys(8), arguments: [1, now - 1000, "late"])
            #expect(late.string == "late")
            #expect(try await gate.state(dropID: 8)! == (true, 1, 0))
            #expect(try await gate.admit(dropID: 8, userID: 1) == .admitted)
        }
    }

    /// The admission deadline is checked by Redis's clock, so it is computed on Redis's clock:
    /// read with `TIME` and carried forward on this host's monotonic clock (this host's wall
    /// clock, which may differ from Redis's or be corrected backwards, takes no part). The
    /// estimate is never ahead of Redis, so no deadline lets Redis decide after the client gave
    /// up.
    @Test func theAdmissionClockFollowsRedisAndIsNeverAheadOfIt() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.reconcile(.init(dropID: 10, phase: .open, isOpen: true, available: 1, buyers: []))
            #expect(try await gate.admit(dropID: 10, userID: 1) == .admitted)
            for _ in 0..<5 {
                let before = try await gate.clock.now()
                let time = try await redis.send(RedisCommand("TIME")).requireArray()
                let after = try await gate.clock.now()
                let redisNow = try #require(time[0].int) * 1000 + (try #require(time[1].int)) / 1000
                #expect(before <= redisNow, "estimated \(before) before Redis read \(redisNow)")
                // Behind by at most a round trip, which a loaded test machine can stretch.
                #expect(after >= redisNow - 3000, "estimated \(after) after Redis read \(redisNow)")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Reconcile makes the buyers exactly PostgreSQL's buyers and those still pending: a customer
    /// whose admission came to nothing (its compensation lost) may buy again.
    @Test func reconcileForgetsBuyersWhoseAdmissionCameToNothing() async throws {
        try await withRedisNamespace { redis, prefix in
            let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
            try await gate.reconcile(.init(dropID: 9, phase: .open, isOpen: true, available: 3, buyers: [1]))
            #expect(try await gate.admit(dropID: 9, userID: 2) == .admitted)
            #expect(try await gate.admit(dropID: 9, userID: 3) == .admitted)
            // 2's admission expired long ago (its intake died); 3 is still confirming.
            try await redis.execute("ZADD", gate.pendingKey(9), AdmissionGate.nowMilliseconds() - 2 * AdmissionGate.pendingHorizonMilliseconds, "2")
            #expect(try await gate.reconcile(.init(dropID: 9, phase: .open, isOpen: true, available: 2, buyers: [1])))
            #expect(try await gate.state(dropID: 9)! == (true, 1, 1))
            #expect(try await gate.admit(dropID: 9, userID: 1) == .alreadyPurchased)
            #expect(try await gate.admit(dropID: 9, userID: 3) == .alreadyPurchased)
            #expect(try await gate.admit(dropID: 9, userID: 2) == .admitted, "2 may buy again")
        }
    }
}
