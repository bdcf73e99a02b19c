import Foundation
import JobQueue
import Logging
import Redis
import Synchronization

/// `bench queue`: enqueue N no-op jobs, drain them with reliable fetch and acknowledgement, and
/// compare with a naive loop that takes one job per `BRPOP` round trip (no in-flight record, no
/// acknowledgement), measured in the same run against the same Redis.
public enum QueueBenchmark {
    public struct Parameters: Sendable {
        public var jobs: Int
        public var concurrency: Int
        public var fetchBatch: Int
        public var baselineJobs: Int
        public var latencySamples: Int

        public init(jobs: Int, concurrency: Int = 256, fetchBatch: Int = 1000, baselineJobs: Int = 50_000, latencySamples: Int = 2000) {
            self.jobs = jobs
            self.concurrency = concurrency
            self.fetchBatch = fetchBatch
            self.baselineJobs = baselineJobs
            self.latencySamples = latencySamples
        }
    }

    public struct Result: Codable, Sendable {
        public let jobs: Int
        public let enqueue_per_s: Double
        public let drain_per_s: Double
        /// Enqueue → handler start for jobs enqueued one at a time into an idle worker.
        public let pickup_p50_ms: Double
        public let pickup_p99_ms: Double
        public let baseline_drain_per_s: Double
        public let baseline_jobs: Int
        public let concurrency: Int
        public let fetch_batch: Int
        public let drain_vs_baseline: Double
    }

    public static func run(
        _ parameters: Parameters, redis configuration: RedisConfiguration, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        let redis = RedisClient(configuration: configuration, connections: 2)
        defer { redis.shutdown() }
        // One hash tag for the run's keys: the queue's scripts touch several at once (on a
        // cluster they must share a slot), and the clean-up finds them all on one node.
        let prefix = "bench:queue:{\(UUID().uuidString.prefix(8))}:"
        let catalog = JobCatalog([
            JobDefinition(
                kind: "noop", queue: "bench", timeoutSeconds: 5, maxAttempts: 3,
                backoffBaseMilliseconds: 100, backoffCapMilliseconds: 1000, visibilityTimeoutSeconds: 5)
        ])
        let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix)
        defer { Task { try? await deleteTaggedKeys(redis, prefix: prefix) } }

        // Enqueue.
        progress("enqueueing \(parameters.jobs) jobs")
        let chunk = 10_000
        let enqueueStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for start in stride(from: 0, to: parameters.jobs, by: chunk) {
                let count = min(chunk, parameters.jobs - start)
                group.addTask {
                    try await queue.enqueue((0..<count).map { _ in JobQueue.NewJob(kind: "noop", payload: "{}") })
                }
                if start / chunk % 4 == 3 { try await group.next() }
            }
            try await group.waitForAll()
        }
        let enqueueSeconds = enqueueStart.duration(to: .now).seconds

        // Drain with the real worker runtime.
        progress("draining with concurrency \(parameters.concurrency), fetch batch \(parameters.fetchBatch)")
        let done = Atomic<Int>(0)
        let drainStart = ContinuousClock.now
        let worker = JobWorker(
            queue: queue,
            handlers: ["noop": ClosureJobHandler { _ in done.wrappingAdd(1, ordering: .relaxed) }],
            configuration: .init(queues: ["bench"], concurrency: parameters.concurrency, fetchBatch: parameters.fetchBatch, idleBlockSeconds: 0.2),
            logger: Logger(label: "bench-queue"))
        let drainSeconds: Double = try await run(worker) {
            while done.load(ordering: .relaxed) < parameters.jobs { try await Task.sleep(for: .milliseconds(2)) }
            // Drained means acknowledged: nothing left in flight.
            while try await redis.send(RedisCommand("HLEN", queue.inFlightKey("bench", worker: worker.configuration.workerID))).requireInt() > 0 {
                try await Task.sleep(for: .milliseconds(1))
            }
            return drainStart.duration(to: .now).seconds
        }

        // Pickup latency of an idle worker, jobs enqueued one at a time.
        progress("measuring pickup latency over \(parameters.latencySamples) jobs")
        let latencies = Mutex<[Double]>([])
        let picked = Atomic<Int>(0)
        let latencyWorker = JobWorker(
            queue: queue,
            handlers: [
                "noop": ClosureJobHandler { context in
                    if let sent = UInt64(context.payload) {
                        let now = DispatchTime.now().uptimeNanoseconds
                        latencies.withLock { $0.append(Double(now &- sent) / 1e6) }
                    }
                    picked.wrappingAdd(1, ordering: .relaxed)
                }
            ],
            configuration: .init(queues: ["bench"], concurrency: 16, idleBlockSeconds: 1),
            logger: Logger(label: "bench-queue"))
        try await run(latencyWorker) {
            try await Task.sleep(for: .milliseconds(300))
            for index in 0..<parameters.latencySamples {
                try await queue.enqueue(.init(kind: "noop", payload: String(DispatchTime.now().uptimeNanoseconds)))
                while picked.load(ordering: .relaxed) <= index { try await Task.sleep(for: .microseconds(200)) }
            }
        }
        let sorted = latencies.withLock { $0 }.sorted()

        // Baseline: one BRPOP round trip per job.
        let baselineJobs = min(parameters.baselineJobs, parameters.jobs)
        progress("baseline: \(baselineJobs) jobs, one BRPOP each")
        let baselineKey = prefix + "naive"
        for start in stride(from: 0, to: baselineJobs, by: chunk) {
            var push = RedisCommand("LPUSH", baselineKey)
            for _ in start..<min(start + chunk, baselineJobs) {
                push.append(
                    Job(
                        id: "x", kind: "noop", queue: "naive", attempt: 1, maxAttempts: 1, visibilityMilliseconds: 1,
                        enqueuedAtMilliseconds: 0, uniqueKey: nil, payload: "{}"
                    ).encoded)
            }
            try await redis.send(push).throwingError()
        }
        let blocking = RedisBlockingClient(configuration: configuration)
        defer { blocking.shutdown() }
        let baselineStart = ContinuousClock.now
        var taken = 0
        while taken < baselineJobs {
            guard let (_, value) = try await blocking.brpop([baselineKey], timeoutSeconds: 1) else { break }
            _ = Job(encoded: value)
            taken += 1
        }
        let baselineSeconds = baselineStart.duration(to: .now).seconds

        let drainRate = Double(parameters.jobs) / drainSeconds
        let baselineRate = Double(taken) / baselineSeconds
        return Result(
            jobs: parameters.jobs,
            enqueue_per_s: (Double(parameters.jobs) / enqueueSeconds).rounded(),
            drain_per_s: drainRate.rounded(),
            pickup_p50_ms: percentile(sorted, 0.50),
            pickup_p99_ms: percentile(sorted, 0.99),
            baseline_drain_per_s: baselineRate.rounded(),
            baseline_jobs: taken,
            concurrency: parameters.concurrency,
            fetch_batch: parameters.fetchBatch,
            drain_vs_baseline: (drainRate / baselineRate * 100).rounded() / 100)
    }

    /// Runs the worker while `body` runs, then stops it.
    private static func run<T: Sendable>(_ worker: JobWorker, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await worker.run() }
        defer { task.cancel() }
        let value = try await body()
        task.cancel()
        try await task.value
        return value
    }

    /// Deletes every key under a prefix that carries a hash tag, in one script on the tag's slot
    /// (on a cluster, `SCAN` from the client would walk whichever node it landed on).
    static func deleteTaggedKeys(_ redis: RedisClient, prefix: String) async throws {
        _ = try await redis.send(
            RedisCommand(
                "EVAL",
                """
                local cursor = '0'
                repeat
                  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
                  cursor = reply[1]
                  for _, key in ipairs(reply[2]) do redis.call('UNLINK', key) end
                until cursor == '0'
                return 1
                """, 1, prefix + "clean-up", prefix + "*")
        ).throwingError()
    }

    static func deleteKeys(_ redis: RedisClient, prefix: String) async throws {
        var cursor = "0"
        repeat {
            let reply = try await redis.send(RedisCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 1000)).requireArray()
            cursor = reply[0].string ?? "0"
            let keys = reply[1].array?.compactMap(\.string) ?? []
            if !keys.isEmpty { _ = try await redis.send(RedisCommand("DEL", keys)) }
        } while cursor != "0"
    }
}
