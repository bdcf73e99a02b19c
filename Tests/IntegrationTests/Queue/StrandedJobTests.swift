import Foundation
import Redis
import Testing

@testable import JobQueue

/// No job is stranded: a taking call whose answer is lost, a graceful stop, a job its worker lost
/// track of. Each ends with the job run or back in its queue, and its unique key held exactly
/// while the job is still in the system.
@Suite struct StrandedJobTests {
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 2),
        JobDefinition(
            kind: "once", queue: "main", timeoutSeconds: 5, maxAttempts: 1,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 2),
        JobDefinition(
            kind: "aside", queue: "side", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 2),
    ])

    /// A client to the test's Redis through a proxy that can hold Redis's answers back, with a
    /// short reply timeout so a held answer fails its call soon.
    static func withProxiedQueue<T>(
        _ redis: RedisClient, prefix: String, _ body: (HoldingProxy, JobQueue) async throws -> T
    ) async throws -> T {
        let proxy = try HoldingProxy(upstreamHost: redis.configuration.host, upstreamPort: redis.configuration.port)
        defer { proxy.stop() }
        var configuration = redis.configuration
        configuration.host = "127.0.0.1"
        configuration.port = proxy.port
        configuration.commandTimeoutMilliseconds = 1000
        let proxied = RedisClient(configuration: configuration, connections: 1)
        defer { proxied.shutdown() }
        return try await body(proxy, JobQueue(redis: proxied, catalog: catalog, keyPrefix: prefix))
    }

    /// Nothing is waiting, in flight, delayed or dead, no deadline is left, no unique key is held.
    static func expectEmpty(_ queue: JobQueue, _ redis: RedisClient, _ prefix: String, keys: [String]) async throws {
        let overview = try await queue.overview()
        #expect(
            overview.queues.allSatisfy { $0.waiting == 0 && $0.inFlight == 0 && $0.delayed == 0 && $0.dead == 0 },
            "\(overview.queues)")
        for queueName in ["main", "side"] {
            #expect(try await redis.send(RedisCommand("ZCARD", prefix + "{\(queueName)}:inflight-deadlines")).requireInt() == 0)
        }
        for key in keys { #expect(try await queue.isHeld(uniqueKey: key) == false, "\(key) released") }
    }

    /// The worker's fetch takes jobs into its in-flight hash and its answer never arrives (held
    /// by the proxy until the call times out): the worker re-reads its hash and runs them.
    @Test func jobsWhoseFetchAnswerWasLostStillRun() async throws {
        try await withRedisNamespace { redis, prefix in
            let direct = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            try await Self.withProxiedQueue(redis, prefix: prefix) { proxy, queue in
                let gate = Gate()
                let done = RecordedJobs()
                let worker = JobWorker(
                    queue: queue,
                    handlers: [
                        "work": ClosureJobHandler { context in
                            if context.job.payload.contains("first") { await gate.wait() }
                            await done.add(context.job)
                        }
                    ],
                    // (No heartbeat during the test: only taking calls and acknowledgements use
                    // the held connection, so the answer lost is the fetch's.)
                    configuration: .init(
                        workerID: "lost-fetch", queues: ["main"], concurrency: 4, heartbeatMilliseconds: 600_000,
                        idleBlockSeconds: 0.5),
                    logger: testLogger)
                // Four running jobs fill the worker, so its fetcher waits for room instead of
                // blocking on the queue.
                let first = (0..<4).map { JobQueue.NewJob(kind: "work", payload: "{\"first\":\($0)}", uniqueKey: "first:\($0)") }
                let second = (0..<20).map { JobQueue.NewJob(kind: "work", payload: "{\"second\":\($0)}", uniqueKey: "second:\($0)") }
                try await direct.enqueue(first)
                try await runWorker(worker) {
                    try await eventually("the first four run") { try await direct.overview().queues.first?.inFlight == 4 }
                    try await direct.enqueue(second)
                    proxy.hold()
                    await gate.open()
                    try await eventually("a fetch whose answer is held took second-wave jobs into the in-flight hash") {
                        let held = try await redis.send(RedisCommand("HVALS", prefix + "{main}:inflight:lost-fetch")).requireArray()
                        return held.contains { $0.string?.contains("second") == true }
                    }
                    try await eventually(timeout: 60, "every job ran") { await done.count == 24 }
                }
                #expect(await done.ids.count == 24, "each job ran once")
                try await Self.expectEmpty(direct, redis, prefix, keys: (first + second).compactMap(\.uniqueKey))
            }
        }
    }

    /// An idle worker's blocking move lands a job and its answer never arrives: the job waits in
    /// the landing list while the queue stays empty, so only the re-read (which adopts what
    /// landed, its own answer held back too) gets it run.
    @Test func aJobWhoseBlockingMoveAnswerWasLostStillRuns() async throws {
        try await withRedisNamespace { redis, prefix in
            let direct = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            try await Self.withProxiedQueue(redis, prefix: prefix) { proxy, queue in
                let done = RecordedJobs()
                let worker = JobWorker(
                    queue: queue, handlers: ["work": ClosureJobHandler { await done.add($0.job) }],
                    configuration: .init(
                        workerID: "lost-move", queues: ["main"], concurrency: 2, heartbeatMilliseconds: 600_000,
                        idleBlockSeconds: 2),
                    logger: testLogger)
                try await direct.enqueue(.init(kind: "work", payload: "{\"warm\":1}"))
                try await runWorker(worker) {
                    try await eventually("the worker runs and then idles") { await done.count == 1 }
                    proxy.hold()
                    try await direct.enqueue(.init(kind: "work", payload: "{\"landed\":1}", uniqueKey: "landed"))
                    try await eventually(timeout: 60, "the landed job ran") { await done.count == 2 }
                }
                try await Self.expectEmpty(direct, redis, prefix, keys: ["landed"])
            }
        }
    }

    /// A job in the worker's in-flight hash that the worker never heard of (its taking call went
    /// unanswered just before the stop) is handed back by the graceful stop, not deleted with
    /// the hash; its unique key stays held because it still waits.
    @Test func aGracefulStopHandsBackWhatIsInFlight() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            let worker = JobWorker(
                queue: queue, handlers: ["work": ClosureJobHandler { _ in }],
                configuration: .init(workerID: "stopping", queues: ["main"], concurrency: 2, idleBlockSeconds: 0.2),
                logger: testLogger)
            // On a queue the worker does not serve, so only the test takes it.
            try await queue.enqueue(.init(kind: "aside", payload: "{}", uniqueKey: "aside"))
            try await runWorker(worker) {
                try await eventually("the worker registered") {
                    try await !redis.send(RedisCommand("ZSCORE", prefix + "{jobs}:workers", "stopping")).isNull
                }
                #expect(try await queue.fetch(queue: "side", worker: "stopping", limit: 10).count == 1)
            }
            let side = try #require(try await queue.overview().queues.first { $0.queue == "side" })
            #expect(side.waiting == 1 && side.inFlight == 0, "handed back: \(side)")
            #expect(try await queue.isHeld(uniqueKey: "aside"), "it still waits: its key stays held")
            #expect(try await redis.send(RedisCommand("ZSCORE", prefix + "{jobs}:workers", "stopping")).isNull, "the worker retired")
            #expect(try await redis.send(RedisCommand("ZCARD", prefix + "{side}:inflight-deadlines")).requireInt() == 0)
            let envelope = try await redis.send(RedisCommand("LINDEX", prefix + "{side}:q", 0))
            guard case .bulk(let bytes) = envelope else {
                Issue.record("no job in the queue")
                return
            }
            #expect(Job(encoded: bytes)?.attempt == 1, "a hand-back spends no attempt")
        }
    }

    /// A job whose in-flight deadline (timeout + visibility timeout: 7 s here) has passed is
    /// rescued although its worker keeps heartbeating; the running attempt's late outcome then
    /// finds it gone and releases nothing.
    @Test func aJobPastItsInFlightDeadlineIsRescuedWhileItsWorkerHeartbeats() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 4_000_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            let gate = Gate()
            let attempts = RecordedJobs()
            let worker = JobWorker(
                queue: queue,
                handlers: [
                    "work": ClosureJobHandler { context in
                        await attempts.add(context.job)
                        if context.attempt == 1 { await gate.wait() }
                    }
                ],
                configuration: .init(
                    workerID: "beating", queues: ["main"], concurrency: 1, heartbeatMilliseconds: 20, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await queue.enqueue(.init(kind: "work", payload: "{}", uniqueKey: "slow"))
            /// Waits until the worker heartbeated at the manual clock's present time.
            func heartbeatCaughtUp() async throws {
                try await eventually("the worker heartbeated at the present time") {
                    let score = try await redis.send(RedisCommand("ZSCORE", prefix + "{jobs}:workers", "beating")).string
                    return score.flatMap(Double.init).map(Int.init) == clock.nowMilliseconds()
                }
            }
            try await runWorker(worker) {
                try await eventually("attempt 1 runs") { await attempts.count == 1 }
                let taken = clock.nowMilliseconds()
                let id = try #require(await attempts.ids.first)
                let deadline = try await redis.send(RedisCommand("ZSCORE", prefix + "{main}:inflight-deadlines", "beating|" + id))
                #expect(deadline.string.flatMap(Double.init).map(Int.init) == taken + 7000, "taken at \(taken): timeout + visibility")

                clock.advance(milliseconds: 7000)
                try await heartbeatCaughtUp()
                #expect(try await queue.rescueOrphanedJobs().rescued == 0, "on its deadline, not past it")
                clock.advance(milliseconds: 1)
                try await heartbeatCaughtUp()
                #expect(try await queue.overview(liveWithinMilliseconds: 1000).liveWorkers == ["beating"])
                #expect(try await queue.rescueOrphanedJobs().rescued == 1, "past its deadline, from a live worker")
                let main = try #require(try await queue.overview().queues.first)
                #expect(main.waiting == 1 && main.inFlight == 0, "\(main)")
                #expect(try await queue.isHeld(uniqueKey: "slow"), "attempt 2 waits: the key stays held")

                await gate.open()
                try await eventually("attempt 2 ran or attempt 1's success settled it") {
                    try await !queue.isHeld(uniqueKey: "slow")
                }
            }
            #expect(await attempts.attempts.first == 1)
            try await Self.expectEmpty(queue, redis, prefix, keys: ["slow"])
        }
    }

    /// Every way a job leaves a worker's in-flight hash also removes its deadline, and the unique
    /// key is released exactly when the job leaves the system.
    @Test func everyPathOutOfFlightKeepsTheUniqueKeyExactlyWhileTheJobLives() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 5_000_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            func deadlines() async throws -> Int {
                try await redis.send(RedisCommand("ZCARD", prefix + "{main}:inflight-deadlines")).requireInt()
            }
            func take(_ kind: String, _ key: String) async throws -> Job {
                try await queue.enqueue(.init(kind: kind, payload: "{}", uniqueKey: key))
                let jobs = try await queue.fetch(queue: "main", worker: "w", limit: 10)
                try #require(jobs.count == 1)
                #expect(try await deadlines() == 1, "in flight with a deadline")
                return jobs[0]
            }
            /// The job is out of the in-flight hash (no deadline left) and its key is held or not.
            func expectOutOfFlight(_ key: String, held: Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let isHeld = try await queue.isHeld(uniqueKey: key)
                let left = try await deadlines()
                #expect(isHeld == held, "\(key) held", sourceLocation: sourceLocation)
                #expect(left == 0, "deadlines left", sourceLocation: sourceLocation)
            }
            func drainQueue() async throws { _ = try await redis.send(RedisCommand("DEL", prefix + "{main}:q", prefix + "{main}:delayed")) }

            // Acknowledged: gone, key released.
            var job = try await take("work", "acked")
            #expect(try await queue.acknowledge([job], worker: "w") == 1)
            try await expectOutOfFlight("acked", held: false)
            // Retried: waits as its next attempt, key held.
            job = try await take("work", "retried")
            #expect(try await queue.retry(job, worker: "w", delayMilliseconds: 10))
            try await expectOutOfFlight("retried", held: true)
            // Buried (a handler's last failure): dead, key released.
            job = try await take("once", "buried")
            #expect(try await queue.bury(job, worker: "w", error: "boom"))
            try await expectOutOfFlight("buried", held: false)
            // Handed back: waits, key held.
            job = try await take("work", "released")
            #expect(try await queue.release([job], worker: "w") == 1)
            try await expectOutOfFlight("released", held: true)
            try await drainQueue()
            // Past its deadline with attempts left: waits as its next attempt, key held.
            job = try await take("work", "overdue")
            clock.advance(milliseconds: 7001)
            try await queue.heartbeat(worker: "w")
            #expect(try await queue.rescueOrphanedJobs().rescued == 1)
            try await expectOutOfFlight("overdue", held: true)
            #expect(try await queue.acknowledge([job], worker: "w") == 0, "the late outcome finds it gone")
            #expect(try await queue.isHeld(uniqueKey: "overdue"), "and releases nothing: attempt 2 holds the key")
            try await drainQueue()
            // Past its deadline on its last attempt: dead, key released.
            job = try await take("once", "overdue-last")
            clock.advance(milliseconds: 7001)
            try await queue.heartbeat(worker: "w")
            #expect(try await queue.rescueOrphanedJobs().buried == 1)
            try await expectOutOfFlight("overdue-last", held: false)
            #expect(try await queue.deadJobs().first?.error == "the job outlived its in-flight deadline during the last attempt")
            // The worker went quiet: rescued, key held, its deadline gone too.
            job = try await take("work", "orphaned")
            clock.advance(milliseconds: 2001)
            #expect(try await queue.rescueOrphanedJobs().rescued == 1)
            try await expectOutOfFlight("orphaned", held: true)
            try await drainQueue()
            // A lost answer: found again by the re-read; then the stop hands back what is left.
            job = try await take("work", "found")
            #expect(try await queue.recover(queue: "main", worker: "w").map(\.id) == [job.id])
            #expect(try await queue.retire(worker: "w") == 1)
            try await expectOutOfFlight("found", held: true)
            #expect(try await queue.overview().queues.first { $0.queue == "main" }?.waiting == 1)
        }
    }

    /// Taking and acknowledging more jobs at once than one Redis command carries in the scripts
    /// (they write in chunks): every job gets its deadline, and every deadline goes with its job.
    @Test func largeBatchesKeepOneDeadlinePerJob() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            try await queue.enqueue((0..<1200).map { JobQueue.NewJob(kind: "work", payload: "{\"n\":\($0)}") })
            let jobs = try await queue.fetch(queue: "main", worker: "big", limit: 1200)
            #expect(jobs.count == 1200)
            #expect(try await redis.send(RedisCommand("HLEN", prefix + "{main}:inflight:big")).requireInt() == 1200)
            #expect(try await redis.send(RedisCommand("ZCARD", prefix + "{main}:inflight-deadlines")).requireInt() == 1200)
            #expect(try await queue.acknowledge(jobs, worker: "big") == 1200)
            #expect(try await redis.send(RedisCommand("ZCARD", prefix + "{main}:inflight-deadlines")).requireInt() == 0)
        }
    }
}
