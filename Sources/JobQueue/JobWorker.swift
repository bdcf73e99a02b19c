import Foundation
import Logging
import Metrics
import Redis
import ServiceLifecycle
import Synchronization

/// A worker process's job runtime: N runners, one fetcher per queue, heartbeats, batched
/// acknowledgements and graceful shutdown.
///
/// On graceful shutdown (SIGTERM/SIGINT through the `ServiceGroup`) it stops taking jobs, hands
/// back jobs it fetched but did not start, lets running jobs finish within the grace period, then
/// cancels what is left and hands those back too, so nothing is lost and `run()` returns normally.
/// It deregisters by handing back whatever its in-flight hash still holds, never by deleting it.
///
/// A taking call whose answer is lost (a timeout, Redis restarting) may still have moved jobs
/// into the in-flight hash; the fetcher then re-reads the hash and runs (or hands back) the jobs
/// this worker does not know it holds, before it takes anything new. And every job in flight has
/// a deadline of its own after which the rescuer takes it, heartbeats or not.
public final class JobWorker: Service {
    public struct Configuration: Sendable {
        public var workerID: String
        public var queues: [String]
        public var concurrency: Int
        public var heartbeatMilliseconds: Int
        public var shutdownGraceSeconds: Double
        /// Most jobs taken from Redis in one fetch.
        public var fetchBatch: Int
        /// How long an idle fetcher blocks on its queue per `BLMOVE`.
        public var idleBlockSeconds: Double

        public init(
            workerID: String = JobWorker.makeWorkerID(), queues: [String], concurrency: Int,
            heartbeatMilliseconds: Int = 1000, shutdownGraceSeconds: Double = 10, fetchBatch: Int = 256,
            idleBlockSeconds: Double = 1
        ) {
            self.workerID = workerID
            self.queues = queues
            self.concurrency = concurrency
            self.heartbeatMilliseconds = heartbeatMilliseconds
            self.shutdownGraceSeconds = shutdownGraceSeconds
            self.fetchBatch = fetchBatch
            self.idleBlockSeconds = idleBlockSeconds
        }
    }

    public let configuration: Configuration
    private let queue: JobQueue
    private let handlers: [String: any JobHandler]
    private let logger: Logger
    private let dispatch: WorkerDispatch
    private let acknowledger: Acknowledger
    private let metrics: WorkerMetrics
    private let runners = RunnerRegistry()
    private let holdings: Holdings
    private let stopping = Atomic<Bool>(false)

    public init(queue: JobQueue, handlers: [String: any JobHandler], configuration: Configuration, logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = .string(configuration.workerID)
        self.logger = logger
        self.dispatch = WorkerDispatch(capacity: configuration.concurrency)
        let holdings = Holdings()
        self.holdings = holdings
        self.acknowledger = Acknowledger(queue: queue, worker: configuration.workerID, logger: logger) {
            holdings.settle($0)
        }
        self.metrics = WorkerMetrics(queues: configuration.queues, kinds: Array(queue.catalog.definitions.keys))
    }

    public static func makeWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    public func run() async throws {
        try await registerHeartbeat()
        logger.info(
            "worker started",
            metadata: [
                "queues": .string(configuration.queues.joined(separator: ",")),
                "concurrency": .stringConvertible(configuration.concurrency),
            ])
        await withGracefulShutdownHandler {
            for _ in 0..<configuration.concurrency { startRunner() }
            await withTaskGroup(of: Void.self) { group in
                for queueName in configuration.queues {
                    group.addTask { await self.fetchLoop(queueName) }
                }
                group.addTask { await self.heartbeatLoop() }
                group.addTask { await self.watchdogLoop() }
                await self.waitForShutdown()
                // Jobs still running after the grace period are cancelled; `run` hands them back.
                for task in runners.tasks { task.cancel() }
                await self.handBackStragglers()
                group.cancelAll()
                await group.waitForAll()
            }
            for task in runners.tasks { await task.value }
            await acknowledger.drain()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .sequentiallyConsistent)
        }
        do {
            let handedBack = try await queue.retire(worker: configuration.workerID, queues: configuration.queues)
            if handedBack > 0 {
                logger.warning("handed back jobs still in flight at the stop", metadata: ["jobs": .stringConvertible(handedBack)])
            }
        } catch {
            logger.warning("could not deregister the worker; the rescuer will", metadata: ["error": "\(error)"])
        }
        logger.info("worker stopped")
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) || Task.isCancelled }

    // MARK: fetching

    private func fetchLoop(_ queueName: String) async {
        let blocking = RedisBlockingClient(configuration: queue.redis.configuration, name: "fetch-\(queueName)")
        defer { blocking.shutdown() }
        let worker = configuration.workerID
        var failures = 0
        // Set by any failed call: its answer may be lost after Redis acted on it.
        var mustReread = false
        while !isStopping {
            let room = await dispatch.reserve(upTo: configuration.fetchBatch)
            if room == 0 || isStopping {
                dispatch.unreserve(room)
                break
            }
            do {
                var jobs: [Job]
                if mustReread {
                    jobs = try await reread(queue: queueName, room: room)
                    mustReread = false
                } else {
                    jobs = try await holdings.take { try await queue.fetch(queue: queueName, worker: worker, limit: room) }
                    if jobs.isEmpty {
                        // Idle: block on the queue instead of polling it.
                        // (The queue's list and this worker's landing list for it share the
                        // queue's hash tag: on a cluster the move stays on one node.)
                        let queueKeys = queue.keys.of(queueName)
                        let landed = try await blocking.blmove(
                            from: queueKeys.list, to: queueKeys.landing(worker),
                            timeoutSeconds: configuration.idleBlockSeconds)
                        if landed != nil { jobs = try await holdings.take { try await queue.adopt(queue: queueName, worker: worker) } }
                    }
                }
                dispatch.unreserve(room - jobs.count)
                if !jobs.isEmpty {
                    let now = queue.clock.localMilliseconds
                    for job in jobs { metrics.pickup(job, latencyMilliseconds: now - job.enqueuedAtMilliseconds) }
                    dispatch.deliver(jobs)
                }
                failures = 0
            } catch {
                dispatch.unreserve(room)
                mustReread = true
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.warning("fetching failed; retrying", metadata: ["queue": .string(queueName), "error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(min(100 * failures, 2000)))
            }
        }
    }

    /// After a taking call on `queueName` failed: adopts what is still landed, and claims the
    /// jobs of the queue's in-flight hash this worker does not know it holds — up to `room` to run, the rest handed
    /// back to their queues (before anything is claimed, so a failed hand-back leaves the
    /// re-read to be done again, with nothing half-claimed).
    private func reread(queue queueName: String, room: Int) async throws -> [Job] {
        let worker = configuration.workerID
        let found = try await holdings.take {
            let unknown = holdings.unknown(try await queue.recover(queue: queueName, worker: worker))
            try await queue.release(Array(unknown.dropFirst(room)), worker: worker)
            return Array(unknown.prefix(room))
        }
        if !found.isEmpty {
            logger.warning("found jobs in flight whose taking call went unanswered", metadata: ["jobs": .stringConvertible(found.count)])
        }
        return found
    }

    // MARK: running

    private func startRunner() {
        runners.start { id in await self.runnerLoop(id) }
    }

    private func runnerLoop(_ id: Int) async {
        // A runner cancelled by the watchdog finishes its job and ends; its replacement runs on.
        while !Task.isCancelled, let job = await dispatch.next() {
            let timeout = queue.catalog[job.kind]?.timeoutSeconds ?? 60
            runners.begin(id, job: job, deadline: .now + .milliseconds(Int(timeout * 1000)))
            await run(job, runner: id)
            runners.end(id)
            dispatch.finished()
        }
    }

    private func run(_ job: Job, runner: Int) async {
        let context = JobContext(job: job, logger: logger)
        guard let handler = handlers[job.kind] else {
            await fail(job, error: JobQueueError(code: .unknownKind, message: "this worker has no handler for '\(job.kind)'"), logger: context.logger)
            return
        }
        let started = ContinuousClock.now
        do {
            try await handler.handle(context)
            metrics.succeeded(job, seconds: started.duration(to: .now).seconds)
            acknowledger.acknowledge(job)
        } catch {
            if runners.timedOut(runner) {
                metrics.failed(job, seconds: started.duration(to: .now).seconds)
                await fail(job, error: JobTimedOut(seconds: queue.catalog[job.kind]?.timeoutSeconds ?? 60), logger: context.logger)
            } else if isStopping && Task.isCancelled {
                // Cut short by shutdown (whatever error the cancellation surfaced as): hand it
                // back without spending an attempt.
                await handBack([job])
            } else {
                metrics.failed(job, seconds: started.duration(to: .now).seconds)
                await fail(job, error: error, logger: context.logger)
            }
        }
    }

    /// Cancels the runners whose job overran its kind's timeout and starts replacements.
    private func watchdogLoop() async {
        while !isStopping {
            try? await Task.sleep(for: .milliseconds(50))
            for task in runners.expire(now: .now) {
                task.cancel()
                if !isStopping { startRunner() }
            }
        }
    }

    private func fail(_ job: Job, error: any Error, logger: Logger) async {
        let definition = queue.catalog[job.kind]
        if error is PermanentJobFailure || definition == nil || job.isLastAttempt {
            if await persist(logger, { try await self.queue.bury(job, worker: self.configuration.workerID, error: "\(error)") }) {
                holdings.settle([job])
            }
            metrics.dead(job)
            logger.error("job failed for good", metadata: ["error": "\(error)"])
        } else {
            var generator = SystemRandomNumberGenerator()
            let backoff = definition!.backoffMilliseconds(afterAttempt: job.attempt, using: &generator)
            let delay = max(backoff, (error as? RetryLater)?.afterMilliseconds ?? 0)
            if await persist(logger, { try await self.queue.retry(job, worker: self.configuration.workerID, delayMilliseconds: delay) }) {
                holdings.settle([job])
            }
            metrics.retried(job)
            logger.warning("job failed; will retry", metadata: ["error": "\(error)", "retry_in_ms": .stringConvertible(delay)])
        }
    }

    /// Records a job's outcome in Redis, retrying while Redis is unreachable: this worker keeps
    /// heartbeating, so a job left in its in-flight hash would wait for its in-flight deadline
    /// and then run again although its outcome is known. Gives up only
    /// when the worker stops (the job then stays in flight, and the worker's retirement hands it
    /// back). Returns whether the outcome was recorded.
    private func persist(_ logger: Logger, _ operation: @Sendable () async throws -> Bool) async -> Bool {
        var failures = 0
        while true {
            do {
                _ = try await operation()
                return true
            } catch {
                failures += 1
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("recording the job's outcome failed; retrying", metadata: ["error": "\(error)"])
                }
                if stopping.load(ordering: .relaxed) { return false }
                try? await Task.sleep(for: .milliseconds(min(50 * failures, 1000)))
            }
        }
    }

    private func handBack(_ jobs: [Job]) async {
        guard !jobs.isEmpty else { return }
        do {
            try await queue.release(jobs, worker: configuration.workerID)
            holdings.settle(jobs)
        } catch {
            logger.error(
                "could not hand jobs back; the worker's retirement or the rescuer will",
                metadata: ["error": "\(error)", "jobs": .stringConvertible(jobs.count)])
        }
    }

    // MARK: liveness and shutdown

    private func registerHeartbeat() async throws {
        try await queue.register(worker: configuration.workerID, host: ProcessInfo.processInfo.hostName)
    }

    private func heartbeatLoop() async {
        var ticks = 0
        while !isStopping {
            try? await Task.sleep(for: .milliseconds(configuration.heartbeatMilliseconds))
            do {
                try await queue.heartbeat(worker: configuration.workerID)
                ticks += 1
                if ticks % 5 == 1 { try await metrics.recordDepths(queue) }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Returns once stopping and every running job finished, or the grace period is over.
    /// Buffered jobs that no runner started are handed back at once.
    private func waitForShutdown() async {
        while !isStopping {
            try? await Task.sleep(for: .milliseconds(50))
        }
        await handBack(dispatch.close())
        let deadline = ContinuousClock.now + .seconds(configuration.shutdownGraceSeconds)
        while ContinuousClock.now < deadline, !runners.isIdle {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// After cancelling: a handler that ignores cancellation (a blocking call) gets one more
    /// second; then its job is handed back anyway and may run twice (delivery is at-least-once).
    private func handBackStragglers() async {
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline, !runners.isIdle {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let leftovers = runners.busyJobs
        if !leftovers.isEmpty {
            logger.warning("jobs ignored cancellation; handing them back", metadata: ["jobs": .stringConvertible(leftovers.count)])
            await handBack(leftovers)
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

public struct JobTimedOut: Error, CustomStringConvertible {
    public let seconds: Double
    public var description: String { "the job ran longer than its timeout of \(seconds) s" }
}
