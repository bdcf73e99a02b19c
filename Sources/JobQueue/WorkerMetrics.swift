import Metrics
import Redis

/// The worker's metrics, created once per queue and kind so the hot path only increments.
struct WorkerMetrics: Sendable {
    private struct KindMetrics: Sendable {
        let processed: Counter
        let failed: Counter
        let retried: Counter
        let dead: Counter
        let runTime: Timer
        let pickup: Timer
    }

    private let byKind: [String: KindMetrics]
    private let depth: [String: Gauge]
    private let fallback: KindMetrics

    init(queues: [String], kinds: [String]) {
        func make(_ kind: String) -> KindMetrics {
            let dimensions = [("kind", kind)]
            return KindMetrics(
                processed: Counter(label: "fastest_jobs_processed_total", dimensions: dimensions),
                failed: Counter(label: "fastest_jobs_failed_total", dimensions: dimensions),
                retried: Counter(label: "fastest_jobs_retried_total", dimensions: dimensions),
                dead: Counter(label: "fastest_jobs_dead_total", dimensions: dimensions),
                runTime: Timer(label: "fastest_job_run_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds),
                pickup: Timer(label: "fastest_job_pickup_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds))
        }
        byKind = Dictionary(uniqueKeysWithValues: kinds.map { ($0, make($0)) })
        fallback = make("unknown")
        depth = Dictionary(
            uniqueKeysWithValues: queues.map {
                ($0, Gauge(label: "fastest_queue_depth", dimensions: [("queue", $0)]))
            })
    }

    private func metrics(_ job: Job) -> KindMetrics { byKind[job.kind] ?? fallback }

    func pickup(_ job: Job, latencyMilliseconds: Int) {
        metrics(job).pickup.recordNanoseconds(Int64(max(0, latencyMilliseconds)) * 1_000_000)
    }

    func succeeded(_ job: Job, seconds: Double) {
        let metrics = metrics(job)
        metrics.processed.increment()
        metrics.runTime.recordNanoseconds(Int64(seconds * 1e9))
    }

    func failed(_ job: Job, seconds: Double) {
        let metrics = metrics(job)
        metrics.failed.increment()
        metrics.runTime.recordNanoseconds(Int64(seconds * 1e9))
    }

    func retried(_ job: Job) { metrics(job).retried.increment() }
    func dead(_ job: Job) { metrics(job).dead.increment() }

    func recordDepths(_ queue: JobQueue) async throws {
        let names = Array(depth.keys)
        let replies = try await queue.redis.pipeline(names.map { RedisCommand("LLEN", queue.keys.of($0).list) })
        for (name, reply) in zip(names, replies) {
            if let value = reply.int { depth[name]?.record(value) }
        }
    }
}
