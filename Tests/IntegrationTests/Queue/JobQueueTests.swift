import Foundation
import JobQueue
import Redis
import Testing

@Suite struct JobQueueTests {
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1000, backoffCapMilliseconds: 4000, visibilityTimeoutSeconds: 2)
    ])

    @Test func enqueuedJobsRunOnceAndLeaveNothingBehind() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            let seen = RecordedJobs()
            let worker = JobWorker(
                queue: queue,
                handlers: ["work": ClosureJobHandler { await seen.add($0.job) }],
                configuration: .init(queues: ["main"], concurrency: 8, idleBlockSeconds: 0.2),
                logger: testLogger)
            let enqueued = try await queue.enqueue((0..<500).map { JobQueue.NewJob(kind: "work", payload: "{\"n\":\($0)}") })
            #expect(enqueued == 500)
            try await runWorker(worker) {
                // (Generous: the whole suite starts at once and shares two cores.)
                try await eventually(timeout: 60, "500 jobs ran") { await seen.count == 500 }
            }
            #expect(await seen.ids.count == 500, "each job ran exactly once")
            #expect(await seen.payloads == Set((0..<500).map { "{\"n\":\($0)}" }))
            let overview = try await queue.overview()
            #expect(overview.queues.allSatisfy { $0.waiting == 0 && $0.inFlight == 0 && $0.delayed == 0 && $0.dead == 0 })
        }
    }

    @Test func uniqueKeysDedupeWhileWaitingOrRunning() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            let first = JobQueue.NewJob(kind: "work", payload: "{}", uniqueKey: "drop.close:7")
            #expect(try await queue.enqueue(first) == true)
            #expect(try await queue.enqueue(first) == false, "waiting: a second enqueue is a no-op")
            #expect(try await queue.enqueue([first, first]) == 0)

            let gate = Gate()
            let worker = JobWorker(
                queue: queue,
                handlers: ["work": ClosureJobHandler { _ in await gate.wait() }],
                configuration: .init(queues: ["main"], concurrency: 1, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await runWorker(worker) {
                try await eventually("the job is running") {
                    try await queue.overview().queues.first?.inFlight == 1
                }
                #expect(try await queue.enqueue(first) == false, "running: a second enqueue is a no-op")
                await gate.open()
                try await eventually("the job finished") { try await !queue.isHeld(uniqueKey: "drop.close:7") }
            }
            #expect(try await queue.enqueue(first) == true, "finished: the key is free again")
            #expect(try await queue.overview().queues.first?.waiting == 1)
        }
    }

    @Test func failuresRetryWithBackoffThenGoToTheDeadSet() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 1_000_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            let attempts = RecordedJobs()
            let worker = JobWorker(
                queue: queue,
                handlers: [
                    "work": ClosureJobHandler { context in
                        await attempts.add(context.job)
                        throw TestFailure("boom \(context.attempt)")
                    }
                ],
                configuration: .init(queues: ["main"], concurrency: 2, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await queue.enqueue(.init(kind: "work", payload: "{\"order\":1}", uniqueKey: "order:1"))
            try await runWorker(worker) {
                for attempt in 1...2 {
                    try await eventually("attempt \(attempt) ran") { await attempts.count == attempt }
                    try await eventually("attempt \(attempt) is scheduled for retry") {
                        try await queue.overview().queues.first?.delayed == 1
                    }
                    // Full jitter: the retry is due within 0...min(cap, base × 2^(attempt−1)).
                    let due = try await redis.send(RedisCommand("ZRANGE", prefix + "{main}:delayed", 0, -1, "WITHSCORES")).requireArray()
                    let dueAt = Int(try #require(due.last?.string.flatMap(Double.init)))
                    let ceiling = min(4000, 1000 << (attempt - 1))
                    #expect(dueAt >= clock.nowMilliseconds() && dueAt <= clock.nowMilliseconds() + ceiling)
                    #expect(try await queue.promoteDueJobs() == 0, "not due before the clock moves")
                    clock.advance(milliseconds: ceiling)
                    #expect(try await queue.promoteDueJobs() == 1)
                }
                try await eventually("the last attempt ran and the job died") {
                    try await queue.overview().queues.first?.dead == 1
                }
            }
            #expect(await attempts.attempts == [1, 2, 3])
            let dead = try await queue.deadJobs()
            #expect(dead.count == 1)
            #expect(dead.first?.error == "boom 3")
            #expect(dead.first?.job.attempt == 3)
            #expect(try await queue.isHeld(uniqueKey: "order:1") == false, "a dead job releases its unique key")
            #expect(try await queue.resurrect(id: dead[0].job.id) == .requeued)
            #expect(try await queue.resurrect(id: dead[0].job.id) == .notFound)
            let overview = try await queue.overview()
            #expect(overview.queues.first?.waiting == 1 && overview.queues.first?.dead == 0)
        }
    }

    @Test func retryLaterIsHonouredWhenLongerThanTheBackoff() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 2_000_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            let worker = JobWorker(
                queue: queue,
                handlers: ["work": ClosureJobHandler { _ in throw RetryLater(afterMilliseconds: 60_000, reason: "429") }],
                configuration: .init(queues: ["main"], concurrency: 1, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await queue.enqueue(.init(kind: "work", payload: "{}"))
            try await runWorker(worker) {
                try await eventually("the retry is scheduled") { try await queue.overview().queues.first?.delayed == 1 }
            }
            let due = try await redis.send(RedisCommand("ZRANGE", prefix + "{main}:delayed", 0, -1, "WITHSCORES")).requireArray()
            #expect(Int(try #require(due.last?.string.flatMap(Double.init))) == clock.nowMilliseconds() + 60_000)
        }
    }

    @Test func aJobOverrunningItsTimeoutIsCancelledAndRetried() async throws {
        try await withRedisNamespace { redis, prefix in
            let catalog = JobCatalog([
                JobDefinition(
                    kind: "slow", queue: "main", timeoutSeconds: 0.3, maxAttempts: 3,
                    backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 5)
            ])
            let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
            let attempts = RecordedJobs()
            let finished = RecordedJobs()
            let worker = JobWorker(
                queue: queue,
                handlers: [
                    "slow": ClosureJobHandler { context in
                        await attempts.add(context.job)
                        // The first attempt hangs far past the timeout; the retry is quick.
                        if context.attempt == 1 { try await Task.sleep(for: .seconds(60)) }
                        await finished.add(context.job)
                    }
                ],
                configuration: .init(queues: ["main"], concurrency: 1, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await queue.enqueue(.init(kind: "slow", payload: "{}"))
            try await runWorker(worker) {
                try await eventually("the first attempt timed out and is scheduled for retry") {
                    try await queue.overview().queues.first?.delayed == 1
                }
                #expect(try await queue.promoteDueJobs() == 1)
                try await eventually("the retry ran") { await finished.count == 1 }
            }
            #expect(await attempts.attempts == [1, 2])
            #expect(await finished.attempts == [2], "the hung attempt was cancelled, not completed")
        }
    }

    @Test func jobsOfAWorkerThatStoppedHeartbeatingAreRescued() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 3_000_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            try await queue.enqueue(.init(kind: "work", payload: "{}", uniqueKey: "u"))
            // A worker that takes the job and then dies without a trace.
            try await redis.execute("ZADD", prefix + "{jobs}:workers", clock.nowMilliseconds(), "ghost")
            let taken = try await redis.run(
                RedisScript("local j = redis.call('LPOP', KEYS[1]); redis.call('HSET', KEYS[2], string.match(j, '^v1|([^|]+)|'), j); return j"),
                keys: [prefix + "{main}:q", prefix + "{main}:inflight:ghost"])
            #expect(taken.string != nil)
            clock.advance(milliseconds: 1999)
            #expect(try await queue.rescueOrphanedJobs().rescued == 0, "within the visibility timeout")
            clock.advance(milliseconds: 2)
            #expect(try await queue.rescueOrphanedJobs().rescued == 1)
            let overview = try await queue.overview()
            #expect(overview.queues.first?.waiting == 1 && overview.queues.first?.inFlight == 0)
            #expect(try await queue.isHeld(uniqueKey: "u"), "still waiting: the unique key stays held")
            let envelope = try await redis.send(RedisCommand("LINDEX", prefix + "{main}:q", 0))
            guard case .bulk(let bytes) = envelope else {
                Issue.record("no job in the queue")
                return
            }
            #expect(Job(encoded: bytes)?.attempt == 2, "a rescue spends the attempt that died")
        }
    }
}

/// Without a manual clock, the queue's scripts read Redis's clock (`TIME`) themselves, so hosts
/// whose clocks disagree still agree on what is due and who is alive. (Redis runs on the test's
/// host, so these tests check that the scripts' Redis-clock path works, reading `TIME` and not
/// a time of 0; they cannot show two clocks disagreeing.)
@Suite struct JobQueueRedisClockTests {
    /// A visibility timeout long enough that a machine slowed by the rest of the suite does not
    /// let the "alive" worker's heartbeat age past it mid-test.
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1000, backoffCapMilliseconds: 4000, visibilityTimeoutSeconds: 60)
    ])

    static func redisNow(_ redis: RedisClient) async throws -> Int {
        try await redis.send(RedisCommand("TIME")).timeMilliseconds()
    }

    @Test func delaysAndRescuesAreJudgedByRedisTime() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            let now = try await Self.redisNow(redis)
            try await queue.enqueue(.init(kind: "work", payload: "{\"at\":\"ahead\"}", runAtMilliseconds: now + 600_000))
            try await queue.enqueue(.init(kind: "work", payload: "{\"at\":\"behind\"}", runAtMilliseconds: now - 600_000))
            var stats = try #require(try await queue.overview().queues.first)
            #expect(stats.delayed == 1 && stats.waiting == 1, "a run-at behind Redis's time queues the job at once")
            #expect(try await queue.promoteDueJobs() == 0, "ten minutes ahead of Redis's time")
            // Move the delayed job's due time to just behind Redis's time.
            let delayed = try await redis.send(RedisCommand("ZRANGE", prefix + "{main}:delayed", 0, -1)).requireArray()
            guard case .bulk(let envelope) = try #require(delayed.first) else {
                Issue.record("no delayed job")
                return
            }
            try await redis.execute("ZADD", prefix + "{main}:delayed", "XX", now - 1, envelope)
            #expect(try await queue.promoteDueJobs() == 1)
            stats = try #require(try await queue.overview().queues.first)
            #expect(stats.delayed == 0 && stats.waiting == 2)

            // Two workers that took a job each: one heartbeated 10 minutes ago by Redis's clock
            // (past the 60 s visibility timeout), one just now.
            let take = RedisScript("local j = redis.call('LPOP', KEYS[1]); redis.call('HSET', KEYS[2], string.match(j, '^v1|([^|]+)|'), j); return j")
            for worker in ["quiet", "alive"] {
                _ = try await redis.run(take, keys: [prefix + "{main}:q", prefix + "{main}:inflight:\(worker)"])
            }
            try await redis.execute("ZADD", prefix + "{jobs}:workers", now - 600_000, "quiet")
            try await redis.execute("ZADD", prefix + "{jobs}:workers", try await Self.redisNow(redis), "alive")
            #expect(try await queue.overview(liveWithinMilliseconds: 60_000).liveWorkers == ["alive"])
            #expect(try await queue.rescueOrphanedJobs().rescued == 1, "only the quiet worker's job")
            stats = try #require(try await queue.overview().queues.first)
            #expect(stats.waiting == 1 && stats.inFlight == 1)
        }
    }

    @Test func aWorkersHeartbeatAndRetriesAreOnRedisTime() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: JobQueueTests.catalog, keyPrefix: prefix)
            let worker = JobWorker(
                queue: queue,
                handlers: ["work": ClosureJobHandler { _ in throw RetryLater(afterMilliseconds: 60_000, reason: "429") }],
                configuration: .init(queues: ["main"], concurrency: 1, idleBlockSeconds: 0.2),
                logger: testLogger)
            let start = try await Self.redisNow(redis)
            try await queue.enqueue(.init(kind: "work", payload: "{}"))
            try await runWorker(worker) {
                try await eventually("the retry is scheduled") { try await queue.overview().queues.first?.delayed == 1 }
                let beats = try await redis.send(RedisCommand("ZRANGE", prefix + "{jobs}:workers", 0, -1, "WITHSCORES")).requireArray()
                let beat = Int(try #require(beats.last?.string.flatMap(Double.init)))
                let now = try await Self.redisNow(redis)
                #expect(beat >= start && beat <= now, "heartbeat \(beat) within Redis's \(start)...\(now)")
                #expect(try await queue.overview(liveWithinMilliseconds: 60_000).liveWorkers.count == 1)
            }
            let end = try await Self.redisNow(redis)
            let due = try await redis.send(RedisCommand("ZRANGE", prefix + "{main}:delayed", 0, -1, "WITHSCORES")).requireArray()
            let dueAt = Int(try #require(due.last?.string.flatMap(Double.init)))
            #expect(dueAt >= start + 60_000 && dueAt <= end + 60_000, "due \(dueAt): Redis's time then, plus 60 s")
        }
    }
}

/// Runs the worker until `body` finishes, then shuts it down gracefully.
func runWorker(_ worker: JobWorker, _ body: () async throws -> Void) async throws {
    let task = Task { try await worker.run() }
    do {
        try await body()
    } catch {
        task.cancel()
        _ = try? await task.value
        throw error
    }
    task.cancel()
    try await task.value
}

actor RecordedJobs {
    private var jobs: [Job] = []
    func add(_ job: Job) { jobs.append(job) }
    var count: Int { jobs.count }
    var ids: Set<String> { Set(jobs.map(\.id)) }
    var payloads: Set<String> { Set(jobs.map(\.payload)) }
    var attempts: [Int] { jobs.map(\.attempt) }
}

actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
