import CurlHTTP
import Foundation
import JobQueue
import LocalServices
import Redis
import Testing

/// The worker runtime as real `fastest-shop worker` processes: killed, stopped, and cut off from
/// Redis. The queue's maintenance (rescue of orphaned jobs, promotion of due retries) normally
/// runs in the scheduler; these tests run it themselves so that they exercise the worker alone.
@Suite struct WorkerProcessTests {
    @Test func aJobOfAWorkerKilledMidJobRunsAgainElsewhereAndIsAcknowledgedOnce() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: try repositoryCatalog(), keyPrefix: JobQueue.keyPrefix(deployment: prefix))
            let environment = try await workerEnvironment(redisPrefix: prefix)
            let key = prefix + "probe"
            // The first start hangs (so the kill always lands mid-job, however slow the machine);
            // the run after the rescue is quick.
            try await queue.enqueue(.init(kind: "probe", payload: probePayload(key: key, sleepMilliseconds: 120_000, sleepStarts: 1)))

            let first = try ShopProcess(["worker", "--queues", "diagnostics", "--concurrency", "2"], environment: environment)
            try await eventually("the first worker started the job") { try await redis.integer(key + ":starts") == 1 }
            first.kill()
            #expect(try await redis.integer(key + ":completions") == 0, "killed mid-job")

            let second = try ShopProcess(["worker", "--queues", "diagnostics", "--concurrency", "2"], environment: environment)
            // Stand-in for the scheduler's rescuer.
            try await eventually(timeout: 30, "the job ran again on the second worker and completed") {
                try await queue.rescueOrphanedJobs()
                return try await redis.integer(key + ":completions") == 1
            }
            #expect(try await redis.integer(key + ":starts") == 2)
            #expect(try await redis.list(key + ":completed").count == 1)
            try await eventually("nothing is left in flight") {
                let overview = try await queue.overview()
                return overview.queues.allSatisfy { $0.inFlight == 0 && $0.waiting == 0 && $0.dead == 0 }
            }
            #expect(try await second.terminate() == 0, "log: \(second.output)")
            #expect(try await redis.integer(key + ":completions") == 1, "acknowledged once: it never ran a third time")
        }
    }

    @Test func gracefulShutdownLosesNothing() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: try repositoryCatalog(), keyPrefix: JobQueue.keyPrefix(deployment: prefix))
            // A 1 s grace period and jobs that would run a minute: running jobs outlive the grace
            // period and must be handed back, buffered ones are handed back at once. Only the first
            // five starts sleep, so the worker that drains the queue afterwards is quick.
            let environment = try await workerEnvironment(
                redisPrefix: prefix, extra: ["FASTEST_SHOP_WORKER_SHUTDOWN_GRACE_S": "1"])
            let key = prefix + "probe"
            let jobs = (0..<30).map { _ in
                JobQueue.NewJob(kind: "probe", payload: probePayload(key: key, sleepMilliseconds: 60_000, sleepStarts: 5))
            }
            try await queue.enqueue(jobs)
            let worker = try ShopProcess(["worker", "--queues", "diagnostics", "--concurrency", "5"], environment: environment)
            try await eventually("five jobs are running") { try await redis.integer(key + ":starts") == 5 }
            #expect(try await worker.terminate() == 0, "a gracefully stopped worker exits 0; log: \(worker.output)")

            let afterStop = try await queue.overview()
            #expect(afterStop.queues.first { $0.queue == "diagnostics" }?.waiting == 30, "every job is back in the queue")
            #expect(afterStop.queues.allSatisfy { $0.inFlight == 0 })
            #expect(try await redis.integer(key + ":completions") == 0)

            let fast = try await workerEnvironment(redisPrefix: prefix)
            let drain = try ShopProcess(["worker", "--queues", "diagnostics", "--concurrency", "30"], environment: fast)
            try await eventually(timeout: 30, "all 30 jobs completed") { try await redis.integer(key + ":completions") == 30 }
            #expect(Set(try await redis.list(key + ":completed")).count == 30)
            #expect(try await drain.terminate() == 0)
        }
    }

    @Test func aRedisRestartLosesNoJob() async throws {
        // Its own Redis (and PostgreSQL) so the restart disturbs no other test.
        try await withScratchServices { scratch in
            let settings = scratch.settings
            let redis = RedisClient(configuration: scratch.redisConfiguration)
            defer { redis.shutdown() }
            let prefix = "restart:"
            let queue = JobQueue(redis: redis, catalog: try repositoryCatalog(), keyPrefix: JobQueue.keyPrefix(deployment: prefix))
            let key = prefix + "probe"
            let count = 2000
            try await queue.enqueue(
                (0..<count).map { _ in
                    JobQueue.NewJob(kind: "probe", payload: probePayload(key: key, sleepMilliseconds: 5))
                })
            var environment = try await workerEnvironment(redisPrefix: prefix)
            environment.merge(settings) { _, new in new }
            let worker = try ShopProcess(["worker", "--queues", "diagnostics", "--concurrency", "8"], environment: environment)
            try await eventually("the worker is busy") { try await redis.integer(key + ":completions") > 100 }
            try await scratch.restart(.redis)
            try await eventually(timeout: 60, "every job completed after the restart") {
                // Stand-in for the scheduler: jobs that failed while Redis was down wait for retry.
                _ = try? await queue.rescueOrphanedJobs()
                _ = try? await queue.promoteDueJobs()
                return (try? await Set(redis.list(key + ":completed")).count) == count
            }
            let overview = try await queue.overview()
            #expect(overview.queues.allSatisfy { $0.waiting == 0 && $0.inFlight == 0 && $0.dead == 0 })
            #expect(try await worker.terminate() == 0, "log: \(worker.output)")
        }
    }

    @Test func workersServeTheirMetricsAndTheJobsCommandShowsTheQueues() async throws {
        try await withRedisNamespace { redis, prefix in
            let queue = JobQueue(redis: redis, catalog: try repositoryCatalog(), keyPrefix: JobQueue.keyPrefix(deployment: prefix))
            let key = prefix + "probe"
            let metricsPort = try ClosedPort.free()
            let environment = try await workerEnvironment(
                redisPrefix: prefix, extra: ["FASTEST_SHOP_WORKER_METRICS_PORT": String(metricsPort)])
            // One job that succeeds, one that fails for good (probe payloads fail while asked to).
            try await queue.enqueue([
                .init(kind: "probe", payload: probePayload(key: key)),
                .init(kind: "probe", payload: probePayload(key: key + ":doomed", failTimes: 100)),
            ])
            let worker = try ShopProcess(["worker", "--queues", "diagnostics"], environment: environment)
            try await eventually("the good job completed") { try await redis.integer(key + ":completions") == 1 }
            // The doomed job burns its attempts through the delayed set; promote like the scheduler.
            try await eventually(timeout: 30, "the doomed job died") {
                try await queue.promoteDueJobs()
                return try await queue.deadJobs().count == 1
            }
            let http = CurlHTTPClient(name: "metrics-test")
            defer { http.shutdown() }
            let metrics = try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(metricsPort)/metrics")).bodyText
            #expect(metrics.contains(#"fastest_jobs_processed_total{kind="probe"} 1"#), "\(metrics.prefix(2000))")
            #expect(metrics.contains(#"fastest_jobs_dead_total{kind="probe"} 1"#))
            #expect(metrics.contains("fastest_job_pickup_seconds"))
            #expect(metrics.contains("fastest_job_run_seconds"))

            let stats = try ShopProcess(["jobs", "stats"], environment: environment)
            #expect(try await stats.waitForExit(timeout: 30) == 0)
            #expect(stats.output.contains("diagnostics"))
            #expect(stats.output.contains("live workers: 1"), "\(stats.output)")
            let dead = try ShopProcess(["jobs", "dead"], environment: environment)
            #expect(try await dead.waitForExit(timeout: 30) == 0)
            let deadID = try #require(try await queue.deadJobs().first?.job.id)
            #expect(dead.output.contains(deadID) && dead.output.contains("probe asked to fail"), "\(dead.output)")
            let retry = try ShopProcess(["jobs", "retry", deadID], environment: environment)
            #expect(try await retry.waitForExit(timeout: 30) == 0)
            #expect(try await queue.deadJobs().isEmpty)
            let again = try ShopProcess(["jobs", "retry", deadID], environment: environment)
            #expect(try await again.waitForExit(timeout: 30) == 1, "no such dead job any more: \(again.output)")
            #expect(try await worker.terminate() == 0)
        }
    }

    @Test func aCatalogFileWithATypoStopsStartUpNamingFileAndField() async throws {
        let directory = ShopProcess.repositoryRoot + "/.fastest/test-catalog-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        {"kind": "probe", "queue": "diagnostics", "timeout_s": 5, "max_attempts": 3,
         "backoff_base_ms": 100, "backoff_cap_ms": 1000, "visibilty_timeout_s": 3}
        """.write(toFile: directory + "/probe.json", atomically: true, encoding: .utf8)
        var environment = try await workerEnvironment(redisPrefix: "unused:")
        environment["FASTEST_SHOP_JOBS_CATALOG"] = directory
        let worker = try ShopProcess(["worker", "--queues", "diagnostics"], environment: environment)
        let status = try await worker.waitForExit(timeout: 20)
        #expect(status == 2)
        let output = worker.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(output.contains("probe.json"))
        #expect(output.contains("'visibilty_timeout_s'"))
        #expect(output.split(separator: "\n").count == 1, "one line: \(output)")
    }
}
