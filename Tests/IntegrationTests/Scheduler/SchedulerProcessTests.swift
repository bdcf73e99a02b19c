import Foundation
import JobQueue
import OpenRunGate
import Postgres
import Redis
import ShopDomain
import Testing

/// `fastest-shop scheduler` as real processes against a real PostgreSQL and Redis.
@Suite struct SchedulerProcessTests {
    static func environment(_ database: PostgresConfiguration, redisPrefix: String, scratchRedis: ScratchServices? = nil) async throws -> [String:
        String]
    {
        var environment = try await workerEnvironment(redisPrefix: redisPrefix)
        environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database
        environment.merge(SchedulerPace.environment) { _, pace in pace }
        if let scratchRedis { environment.merge(scratchRedis.redisEnvironment) { _, scratch in scratch } }
        return environment
    }

    /// Close jobs waiting in the drops queue, by drop id.
    static func closeJobs(_ redis: RedisClient, prefix: String) async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        let envelopes = try await redis.send(RedisCommand("LRANGE", JobQueue.keyPrefix(deployment: prefix) + "{drops}:q", 0, -1)).requireArray()
        for envelope in envelopes {
            guard case .bulk(let bytes) = envelope, let job = Job(encoded: bytes) else { continue }
            let id = Int(job.payload.filter(\.isNumber)) ?? -1
            counts[id, default: 0] += 1
        }
        return counts
    }

    static func leader(_ pool: PostgresPool) async throws -> (term: Int, holder: String)? {
        let rows = try await pool.query("SELECT term, holder FROM scheduler_leadership")
        guard let row = rows.first else { return nil }
        return (try row.int(0), try row.string(1))
    }

    @Test func aStandbyTakesOverWhenTheLeaderDiesAndNoCloseJobIsEnqueuedTwice() async throws {
        try await withTestDatabase { pool, database in
            try await withRedisNamespace { redis, prefix in
                let environment = try await Self.environment(database, redisPrefix: prefix)
                let first = try ShopProcess(["scheduler"], environment: environment)
                let second = try ShopProcess(["scheduler"], environment: environment)
                try await eventually("a leader is elected") { try await Self.leader(pool) != nil }

                var drops: [Int] = []
                for _ in 0..<5 {
                    drops.append(try await DropFixtures.insertDrop(pool, kind: .draw, closesIn: 0.5))
                }
                try await eventually("every closed draw has its close job") {
                    try await Self.closeJobs(redis, prefix: prefix).keys.sorted() == drops
                }
                // Both schedulers keep ticking for a while: the leader re-offers close jobs every
                // tick and the standby tries to lead; still one job per drop.
                try await Task.sleep(for: .seconds(1))
                #expect(try await Self.closeJobs(redis, prefix: prefix).values.allSatisfy { $0 == 1 })
                let statuses = try await pool.query("SELECT DISTINCT status FROM drops").map { try $0.string(0) }
                #expect(statuses == ["closing"])

                let before = try #require(try await Self.leader(pool))
                let (leader, standby) = before.holder.hasSuffix("-\(first.pid)") ? (first, second) : (second, first)
                #expect(before.holder.hasSuffix("-\(leader.pid)"))
                leader.kill()
                try await eventually("the standby took over") {
                    guard let after = try await Self.leader(pool) else { return false }
                    return after.term > before.term && after.holder.hasSuffix("-\(standby.pid)")
                }
                for _ in 0..<5 {
                    drops.append(try await DropFixtures.insertDrop(pool, kind: .raffle, closesIn: 0.3, maxTickets: 5))
                }
                try await eventually("the new leader enqueued the new drops' close jobs") {
                    try await Self.closeJobs(redis, prefix: prefix).keys.sorted() == drops
                }
                try await Task.sleep(for: .seconds(1))
                #expect(try await Self.closeJobs(redis, prefix: prefix).values.allSatisfy { $0 == 1 })
                #expect(try await standby.terminate() == 0, "log: \(standby.output)")
            }
        }
    }

    @Test func theSchedulerOpensDropsOnTime() async throws {
        try await withTestDatabase { pool, database in
            try await withRedisNamespace { _, prefix in
                let drop = try await DropFixtures.insertDrop(pool, kind: .draw, status: .scheduled, opensIn: 0.5, closesIn: 3600)
                let scheduler = try ShopProcess(["scheduler"], environment: try await Self.environment(database, redisPrefix: prefix))
                try await eventually("the drop opened") {
                    try await pool.query("SELECT status FROM drops WHERE id = $1", [.int(drop)])[0].string(0) == "open"
                }
                #expect(try await scheduler.terminate() == 0)
            }
        }
    }

    @Test func afterRedisLosesEverythingReconcileReEnqueuesAllPendingWork() async throws {
        // A private Redis: FLUSHALL must not touch the other tests' data.
        try await withScratchServices { scratch in
            let redis = RedisClient(configuration: scratch.redisConfiguration)
            defer { redis.shutdown() }
            try await withTestDatabase { pool, database in
                let prefix = "flush:"
                var drops: [Int] = []
                for _ in 0..<3 { drops.append(try await DropFixtures.insertDrop(pool, kind: .draw, closesIn: 0.2)) }
                // A pending order whose charge job only PostgreSQL remembers.
                let openRun = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 2, closesIn: nil)
                let customer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                let order = try await pool.withConnection { connection in
                    try connection.transaction { transaction in
                        try transaction.query("UPDATE drops SET available = available - 1, held = held + 1 WHERE id = $1", [.int(openRun)])
                        return try transaction.query(
                            """
                            INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at, created_at)
                            VALUES ($1, $2, 12000, 'EUR', 'wh_test_1', now() + interval '15 minutes', now() - interval '1 minute')
                            RETURNING id
                            """, [.int(openRun), .int(customer)])[0].int(0)
                    }
                }
                let scheduler = try ShopProcess(
                    ["scheduler"], environment: try await Self.environment(database, redisPrefix: prefix, scratchRedis: scratch))
                func chargeJobs() async throws -> [String] {
                    try await redis.send(RedisCommand("LRANGE", JobQueue.keyPrefix(deployment: prefix) + "{payments}:q", 0, -1)).requireArray()
                        .compactMap {
                            guard case .bulk(let bytes) = $0 else { return nil }
                            return Job(encoded: bytes)?.payload
                        }
                }
                try await eventually("close and charge jobs are enqueued") {
                    let closes = try await Self.closeJobs(redis, prefix: prefix).keys.sorted()
                    let charges = try await chargeJobs()
                    return closes == drops && charges == ["{\"order_id\":\(order)}"]
                }
                try await redis.execute("SET", prefix + "sentinel", "1")
                try await redis.execute("FLUSHALL")
                // (The scheduler may re-enqueue within its next tick, so the queue itself is no proof
                // of the flush; a key nobody rewrites is.)
                #expect(try await redis.send(RedisCommand("EXISTS", prefix + "sentinel")).requireInt() == 0)
                try await eventually("reconcile re-enqueued every pending close and charge") {
                    let closes = try await Self.closeJobs(redis, prefix: prefix).keys.sorted()
                    let charges = try await chargeJobs()
                    return closes == drops && charges == ["{\"order_id\":\(order)}"]
                }
                #expect(try await Self.closeJobs(redis, prefix: prefix).values.allSatisfy { $0 == 1 })
                #expect(try await scheduler.terminate() == 0, "log: \(scheduler.output)")
            }
        }
    }

    /// The scheduler keeps an open-run's admission gate in step with PostgreSQL: loaded when the
    /// drop opens, repaired when it drifts, rebuilt when Redis loses it, closed when the drop closes.
    @Test func theSchedulerLoadsRepairsRebuildsAndClosesAnOpenRunsGate() async throws {
        try await withScratchServices { scratch in
            let redis = RedisClient(configuration: scratch.redisConfiguration)
            defer { redis.shutdown() }
            try await withTestDatabase { pool, database in
                let prefix = "sched:"
                let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, status: .scheduled, stock: 4, opensIn: 0.5, closesIn: nil)
                let scheduler = try ShopProcess(
                    ["scheduler"],
                    environment: try await Self.environment(database, redisPrefix: prefix, scratchRedis: scratch))
                try await eventually("the gate was loaded when the drop opened") {
                    guard let state = try await gate.state(dropID: drop) else { return false }
                    return state.isOpen && state.remaining == 4 && state.pending == 0
                }
                // An order the gate never heard of (its admission went through another gate).
                let customer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
                try await pool.withConnection { connection in
                    try connection.transaction { transaction in
                        try transaction.query("UPDATE drops SET available = available - 1, held = held + 1 WHERE id = $1", [.int(drop)])
                        try transaction.query(
                            """
                            INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                            VALUES ($1, $2, 12000, 'EUR', 'wh_gate_test', now() + interval '15 minutes')
                            """, [.int(drop), .int(customer)])
                    }
                }
                try await eventually("reconcile repaired the drift") { try await gate.state(dropID: drop)?.remaining == 3 }
                #expect(try await gate.admit(dropID: drop, userID: customer) == .alreadyPurchased)

                try await redis.execute("FLUSHALL")
                try await eventually("reconcile rebuilt the lost gate from PostgreSQL") {
                    guard let state = try await gate.state(dropID: drop) else { return false }
                    return state.isOpen && state.remaining == 3 && state.pending == 0
                }
                #expect(try await gate.admit(dropID: drop, userID: customer) == .alreadyPurchased)

                // The drop's window ends now (not at a time fixed in advance: a loaded machine
                // could reach it before the steps above are done).
                try await pool.query("UPDATE drops SET closes_at = now() WHERE id = $1", [.int(drop)])
                try await eventually(timeout: 30, "the gate closed with the drop") {
                    try await gate.state(dropID: drop)?.isOpen == false
                }
                #expect(try await pool.query("SELECT status FROM drops WHERE id = $1", [.int(drop)])[0].string(0) == "closed")
                #expect(try await gate.admit(dropID: drop, userID: customer + 1) == .notOpen)
                #expect(try await scheduler.terminate() == 0, "log: \(scheduler.output)")
            }
        }
    }
}
