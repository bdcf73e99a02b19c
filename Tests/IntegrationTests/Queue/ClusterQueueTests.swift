import Foundation
import Redis
import Testing

@testable import JobQueue

/// The job queue on a real Redis Cluster (3 masters, 3 replicas, `scripts/cluster up
/// --redis-only`): each queue's keys carry the queue's own hash tag, so two queues live on two
/// shards, while every queue script (take, acknowledge, retry, promote, rescue, retire) stays on
/// its queue's slot.
@Suite(.serialized) struct ClusterQueueTests {
    static let catalog = JobCatalog([
        JobDefinition(
            kind: "a", queue: "alpha", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 1),
        JobDefinition(
            kind: "b", queue: "bravo", timeoutSeconds: 5, maxAttempts: 3,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 1),
    ])

    @Test func twoQueuesLiveOnTwoShardsAndJobsStillFlowRetryAndAreRescued() async throws {
        try await withRedisCluster { cluster in
            let redis = RedisClient(configuration: cluster.configuration(), connections: 2, name: "cluster-queue-test")
            defer { redis.shutdown() }
            let queue = JobQueue(redis: redis, catalog: Self.catalog, keyPrefix: JobQueue.keyPrefix(deployment: "test:"))

            // Unique keys, and a payload that fails its first attempt (so it is retried through
            // the queue's delayed set and promoted back).
            var jobs: [JobQueue.NewJob] = []
            for kind in ["a", "b"] {
                jobs += (0..<10).map { JobQueue.NewJob(kind: kind, payload: "{\"n\":\($0)}") }
                jobs += (0..<5).map { JobQueue.NewJob(kind: kind, payload: "{\"u\":\($0)}", uniqueKey: "\(kind)-\($0)") }
                jobs.append(JobQueue.NewJob(kind: kind, payload: "fail-once"))
            }
            #expect(try await queue.enqueue(jobs) == 32)
            #expect(try await queue.enqueue(JobQueue.NewJob(kind: "a", payload: "{}", uniqueKey: "a-0")) == false, "unique per queue")

            // Each queue's list is on the master of its own tag, and the two masters differ.
            let map = try #require(redis.clusterMap)
            let alpha = try #require(map.master(forSlot: RedisClusterSlot.of(queue.waitingListKey("alpha"))))
            let bravo = try #require(map.master(forSlot: RedisClusterSlot.of(queue.waitingListKey("bravo"))))
            #expect(alpha != bravo, "both queues on one shard: \(queue.waitingListKey("alpha")), \(queue.waitingListKey("bravo"))")
            for (name, master) in [("alpha", alpha), ("bravo", bravo)] {
                let node = RedisClient(
                    configuration: RedisConfiguration(host: master.host, port: master.port, password: redis.configuration.password))
                defer { node.shutdown() }
                #expect(try await node.send(RedisCommand("LLEN", queue.waitingListKey(name))).requireInt() == 16, "\(name) on \(master)")
            }

            // A worker that takes a job of each queue and dies: the rescue finds both in-flight
            // hashes (one per queue) and puts the jobs back.
            try await queue.heartbeat(worker: "ghost")
            #expect(try await queue.fetch(queue: "alpha", worker: "ghost", limit: 1).count == 1)
            #expect(try await queue.fetch(queue: "bravo", worker: "ghost", limit: 1).count == 1)
            let ghostAlpha = RedisClusterSlot.of(queue.inFlightKey("alpha", worker: "ghost"))
            #expect(ghostAlpha == RedisClusterSlot.of(queue.waitingListKey("alpha")), "a worker's in-flight hash is in its queue's slot")
            var rescued = 0
            try await eventually(timeout: 30, "both of the silent worker's jobs rescued") {
                rescued += try await queue.rescueOrphanedJobs().rescued
                return rescued == 2
            }
            #expect(try await queue.overview().queues.allSatisfy { $0.inFlight == 0 && $0.waiting == 16 })

            let seen = RecordedJobs()
            let failedOnce = FailedOnce()
            let handler = ClosureJobHandler { context in
                if context.job.payload == "fail-once", await failedOnce.first(context.job.id) {
                    throw ClusterQueueTestFailure()
                }
                await seen.add(context.job)
            }
            let worker = JobWorker(
                queue: queue, handlers: ["a": handler, "b": handler],
                configuration: .init(workerID: "both", queues: ["alpha", "bravo"], concurrency: 4, idleBlockSeconds: 0.2),
                logger: testLogger)
            try await runWorker(worker) {
                try await eventually(timeout: 60, "every job ran") {
                    try await queue.promoteDueJobs()  // (the scheduler's part)
                    return await seen.count == 32
                }
            }
            #expect(await seen.ids.count == 32, "each job ran once")
            #expect(await failedOnce.count == 2, "one failed attempt per queue, retried")
            let overview = try await queue.overview()
            #expect(overview.queues.map(\.queue) == ["alpha", "bravo"])
            #expect(overview.queues.allSatisfy { $0.waiting == 0 && $0.inFlight == 0 && $0.delayed == 0 && $0.dead == 0 }, "\(overview.queues)")
            #expect(try await queue.throughput(minutes: 2).map(\.processed) == [16, 16])
            #expect(try await queue.workerDetails().map(\.id) == ["ghost"], "the stopped worker retired; the ghost is still known")
        }
    }
}

private struct ClusterQueueTestFailure: Error {}

private actor FailedOnce {
    private var ids: Set<String> = []
    var count: Int { ids.count }
    /// True the first time an id is seen.
    func first(_ id: String) -> Bool { ids.insert(id).inserted }
}
