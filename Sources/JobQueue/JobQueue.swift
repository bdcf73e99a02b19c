import Foundation
import Redis

/// The job queue: enqueueing, and the operations workers and maintenance services build on.
///
/// Jobs wait in one Redis list per queue. A worker takes jobs by moving them atomically into its
/// own in-flight hash for that queue (at-least-once delivery); acknowledging removes them;
/// failures go to the queue's delayed sorted set for their retry or, after the last attempt, to
/// its dead set. Each queue's keys share one hash tag (``QueueKeys``).
public final class JobQueue: Sendable {
    public let redis: RedisClient
    public let catalog: JobCatalog
    public let clock: JobClock
    let keys: QueueKeys

    public init(redis: RedisClient, catalog: JobCatalog, keyPrefix: String, clock: JobClock = .redis) {
        self.redis = redis
        self.catalog = catalog
        self.clock = clock
        self.keys = QueueKeys(prefix: keyPrefix)
    }

    public var keyPrefix: String { keys.prefix }

    /// A job to enqueue.
    public struct NewJob: Sendable {
        public var kind: String
        public var payload: String
        public var uniqueKey: String?
        /// Run no earlier than this (Unix ms); nil for now.
        public var runAtMilliseconds: Int?

        public init(kind: String, payload: String, uniqueKey: String? = nil, runAtMilliseconds: Int? = nil) {
            self.kind = kind
            self.payload = payload
            self.uniqueKey = uniqueKey
            self.runAtMilliseconds = runAtMilliseconds
        }
    }

    /// Enqueues one job; returns false when its unique key is already held by a waiting or
    /// running job (and nothing was enqueued).
    @discardableResult
    public func enqueue(_ job: NewJob) async throws -> Bool {
        try await enqueue([job]) == 1
    }

    /// Enqueues many jobs in one round trip; returns how many were enqueued (unique duplicates
    /// are skipped).
    @discardableResult
    public func enqueue(_ jobs: [NewJob]) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        // (Only for the pickup-latency metric of the worker that takes the job; schedules are
        // decided by the scripts, on Redis's clock.)
        let enqueuedAt = clock.localMilliseconds
        var plain: [String: [[UInt8]]] = [:]  // queue → envelopes that need no script
        var scripted: [(keys: [String], arguments: [any RedisArgument])] = []
        var scriptedQueues = Set<String>()
        for newJob in jobs {
            let definition = try catalog.definition(newJob.kind)
            if let uniqueKey = newJob.uniqueKey, uniqueKey.isEmpty || uniqueKey.contains("|") {
                throw JobQueueError(code: .invalidJob, message: "a unique key must be non-empty and free of '|'")
            }
            let job = Job(
                id: JobID.make(), kind: definition.kind, queue: definition.queue, attempt: 1,
                maxAttempts: definition.maxAttempts,
                visibilityMilliseconds: Int(definition.visibilityTimeoutSeconds * 1000),
                enqueuedAtMilliseconds: enqueuedAt, uniqueKey: newJob.uniqueKey, payload: newJob.payload)
            if newJob.uniqueKey == nil && newJob.runAtMilliseconds == nil {
                plain[job.queue, default: []].append(job.encoded)
            } else {
                let queueKeys = keys.of(job.queue)
                scripted.append(
                    (
                        [queueKeys.list, queueKeys.unique, queueKeys.delayed],
                        [job.encoded, job.id, newJob.uniqueKey ?? "", max(0, newJob.runAtMilliseconds ?? 0), clock.scriptArgument]
                    ))
                scriptedQueues.insert(job.queue)
            }
        }
        // Every queue is named in the set of queues before its first job arrives (the scripts
        // cannot do it: the set is in another slot), so maintenance always finds it.
        var commands = Set(plain.keys).union(scriptedQueues).sorted().map { RedisCommand("SADD", keys.queues, $0) }
        for (queue, envelopes) in plain {
            // One RPUSH per chunk keeps each command a reasonable size.
            for start in stride(from: 0, to: envelopes.count, by: 1000) {
                var push = RedisCommand("RPUSH", keys.of(queue).list)
                for envelope in envelopes[start..<min(start + 1000, envelopes.count)] { push.append(envelope) }
                commands.append(push)
            }
        }
        var enqueued = 0
        if !commands.isEmpty {
            for reply in try await redis.pipeline(commands) { try reply.throwingError() }
        }
        enqueued += plain.values.reduce(0) { $0 + $1.count }
        if !scripted.isEmpty {
            for reply in try await redis.runAll(QueueScripts.enqueue, calls: scripted) {
                enqueued += try reply.requireInt()
            }
        }
        return enqueued
    }
}
