import JobQueue
import Redis
import Testing

/// The console's queue controls on a real Redis: Delete, Purge, Retry all, the retrying count
/// and the workers' details.
@Suite struct DeadJobControlTests {
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1000, backoffCapMilliseconds: 4000, visibilityTimeoutSeconds: 60)
    ])

    static func job(_ id: String, attempt: Int = 3, uniqueKey: String? = nil) -> Job {
        Job(
            id: id, kind: "work", queue: "main", attempt: attempt, maxAttempts: 3, visibilityMilliseconds: 60_000,
            enqueuedAtMilliseconds: 1_000, uniqueKey: uniqueKey, payload: "{\"n\":\"\(id)\"}")
    }

    /// Puts jobs in the dead set the way a worker's last failed attempt leaves them.
    static func bury(_ jobs: [Job], redis: RedisClient, prefix: String) async throws {
        for (index, job) in jobs.enumerated() {
            _ = try await redis.pipeline([
                RedisCommand("ZADD", prefix + "{main}:dead", 1_000 + index, job.id),
                RedisCommand("HSET", prefix + "{main}:dead:jobs", job.id, job.encoded),
                RedisCommand("HSET", prefix + "{main}:dead:errors", job.id, "boom \(job.id)"),
                RedisCommand("SADD", prefix + "{jobs}:queues", job.queue),
            ])
        }
    }

    @Test func deletePurgeAndRetryAllKeepTheDeadSetConsistent() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            try await Self.bury((1...5).map { Self.job("j\($0)") }, redis: redis, prefix: prefix)
            #expect(try await queue.deadJobs().count == 5)

            #expect(try await queue.deleteDead(id: "j1"))
            #expect(try await queue.deleteDead(id: "j1") == false, "already gone")
            #expect(try await queue.deadJobs().map(\.job.id).sorted() == ["j2", "j3", "j4", "j5"])
            #expect(try await redis.execute("HEXISTS", prefix + "{main}:dead:errors", "j1").int == 0)

            // A dead job whose unique key a live job holds stays dead through Retry all.
            try await Self.bury([Self.job("held", uniqueKey: "order:9")], redis: redis, prefix: prefix)
            _ = try await redis.execute("HSET", prefix + "{main}:unique", "order:9", "live-job")
            #expect(try await queue.retryAllDead() == 4)
            #expect(try await queue.deadJobs().map(\.job.id) == ["held"])
            let overview = try await queue.overview()
            #expect(overview.queues.first?.waiting == 4)
            #expect(overview.queues.first?.dead == 1)

            #expect(try await queue.purgeDead() == 1)
            #expect(try await queue.deadJobs().isEmpty)
            #expect(try await queue.overview().queues.first?.dead == 0)
        }
    }

    @Test func retriesAreCountedApartFromJobsScheduledForLater() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix)
            _ = try await redis.pipeline([
                RedisCommand("ZADD", prefix + "{main}:delayed", 5_000, Self.job("retry", attempt: 2).encoded),
                RedisCommand("ZADD", prefix + "{main}:delayed", 5_000, Self.job("later", attempt: 1).encoded),
                RedisCommand("SADD", prefix + "{jobs}:queues", "main"),
            ])
            #expect(try await queue.retryingCounts() == ["main": 1])
            #expect(try await queue.overview().queues.first?.delayed == 2)
        }
    }

    @Test func workerDetailsGiveHeartbeatsAndJobsInFlight() async throws {
        try await withRedisNamespace { redis, prefix in
            let clock = ManualJobClock(milliseconds: 10_000_000)
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: prefix, clock: .manual(clock))
            _ = try await redis.pipeline([
                RedisCommand("ZADD", prefix + "{jobs}:workers", 10_000_000 - 500, "busy"),
                RedisCommand("ZADD", prefix + "{jobs}:workers", 10_000_000 - 60_000, "quiet"),
                RedisCommand("HSET", prefix + "{main}:inflight:busy", "a", Self.job("a").encoded, "b", Self.job("b").encoded),
            ])
            let workers = try await queue.workerDetails()
            #expect(workers.map(\.id) == ["busy", "quiet"])
            #expect(workers.map(\.jobsInFlight) == [2, 0])
            #expect(workers.map(\.silentMilliseconds) == [500, 60_000])
        }
    }
}
