import Foundation
import Redis
import Testing

@testable import JobQueue

/// The console's per-minute queue counters and the workers' registration, on a real Redis.
@Suite struct QueueThroughputTests {
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
        JobDefinition(
            kind: "other", queue: "side", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
        JobDefinition(
            kind: "once", queue: "main", timeoutSeconds: 5, maxAttempts: 1,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
    ])

    @Test func acknowledgedBatchesAndFailuresAreCountedPerQueueAndMinute() async throws {
        try await withRedisNamespace { redis, prefix in
            // Minute 1000 and 12 s into it.
            let clock = ManualJobClock(milliseconds: 60_000_000 + 12_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            _ = try await queue.enqueue(
                (0..<5).map { _ in JobQueue.NewJob(kind: "work", payload: "{}") } + [JobQueue.NewJob(kind: "other", payload: "{}")])
            let main = try await queue.fetch(queue: "main", worker: "w", limit: 10)
            let side = try await queue.fetch(queue: "side", worker: "w", limit: 10)
            try #require(main.count == 5 && side.count == 1)

            // One batch over two queues; a repeat of it finds nothing in flight and counts nothing.
            #expect(try await queue.acknowledge(Array(main.prefix(3)) + side, worker: "w") == 4)
            #expect(try await queue.acknowledge(Array(main.prefix(3)), worker: "w") == 0)
            let key = prefix + "{main}:stats:processed:main:1000"
            #expect(try await redis.execute("GET", key).int == 3)
            let ttl = try await redis.execute("TTL", key).int ?? -2
            #expect(ttl > 3600 && ttl <= 3900, "the counter outlives the hour shown, then goes")

            // The next minute: one retried attempt and one buried job are failures.
            clock.advance(milliseconds: 60_000)
            #expect(try await queue.retry(main[3], worker: "w", delayMilliseconds: 10))
            #expect(try await queue.bury(main[4], worker: "w", error: "boom"))

            let figures = try await queue.throughput(minutes: 60)
            #expect(figures.map(\.queue) == ["main", "side"])
            let mainFigures = try #require(figures.first)
            #expect(mainFigures.minutes.count == 60)
            #expect(mainFigures.minutes.last?.startMilliseconds == 1001 * 60_000)
            #expect(mainFigures.minutes.suffix(2).map(\.processed) == [3, 0])
            #expect(mainFigures.minutes.suffix(2).map(\.failed) == [0, 2])
            #expect(mainFigures.processed == 3 && mainFigures.failed == 2)
            #expect(figures[1].processed == 1 && figures[1].failed == 0)

            // An hour on, the old minutes are out of the window.
            clock.advance(milliseconds: 3_600_000)
            #expect(try await queue.throughput(minutes: 60).allSatisfy { $0.processed == 0 && $0.failed == 0 })
        }
    }

    /// A worker dies holding two jobs: the scheduler's rescuer re-queues the one with attempts
    /// left and buries the one without. Both attempts failed, and the console's "failed per
    /// minute" counts them like the attempts a worker retried or buried itself.
    @Test func attemptsTheRescuerTakesBackOrBuriesCountAsFailed() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 60_000_000 + 5_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            _ = try await queue.enqueue([JobQueue.NewJob(kind: "once", payload: "{}"), JobQueue.NewJob(kind: "work", payload: "{}")])
            try await queue.heartbeat(worker: "gone")
            let taken = try await queue.fetch(queue: "main", worker: "gone", limit: 10)
            try #require(taken.count == 2)
            #expect(try await queue.throughput(minutes: 5).first?.failed == 0)

            // No heartbeat for longer than the visibility timeout: the worker is gone.
            clock.advance(milliseconds: 61_000)
            let outcome = try await queue.rescueOrphanedJobs()
            #expect(outcome.rescued == 1 && outcome.buried == 1)
            let overview = try #require(try await queue.overview().queues.first)
            #expect(overview.dead == 1 && overview.waiting == 1, "\(overview)")

            let figures = try #require(try await queue.throughput(minutes: 5).first)
            #expect(figures.queue == "main")
            #expect(figures.minutes.last?.failed == 2, "\(figures.minutes.map(\.failed))")
            #expect(figures.processed == 0)
            // Nothing left to rescue: a second pass counts nothing more.
            _ = try await queue.rescueOrphanedJobs()
            #expect(try await queue.throughput(minutes: 5).first?.failed == 2)
        }
    }

    @Test func aRegisteredWorkerHasItsHostAndStartTimeUntilItRetires() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 10_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            try await queue.register(worker: "w1", host: "box-7")
            clock.advance(milliseconds: 2_000)
            try await queue.heartbeat(worker: "w1")
            let worker = try #require(try await queue.workerDetails().first)
            #expect(worker.id == "w1")
            #expect(worker.host == "box-7")
            #expect(worker.startedAtMilliseconds == 10_000_000)
            #expect(worker.lastHeartbeatMilliseconds == 10_002_000)
            try await queue.retire(worker: "w1")
            #expect(try await redis.execute("HEXISTS", prefix + "{jobs}:workers:info", "w1").int == 0)
            #expect(try await queue.workerDetails().isEmpty)
        }
    }
}
