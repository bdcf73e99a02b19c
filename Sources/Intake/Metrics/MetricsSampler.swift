import CoreMetrics
import JobQueue
import Logging
import ServiceLifecycle
import ShopDomain
import Storage

/// Samples the state behind the business gauges — orders by status, queue depths, dead jobs,
/// live workers — every `metrics.sample_ms`, so that a scrape of `/metrics` only renders numbers
/// and never waits on PostgreSQL or Redis on the event loop. One query (`ConsoleFigures`'s order
/// counts) and two pipelined Redis round trips (``JobQueue/depths(liveWithinMilliseconds:)``)
/// per sample; a failed sample keeps the last figures and is tried again next time.
struct MetricsSampler: Service {
    let metrics: IntakeMetrics
    let figures: ConsoleFigures
    let queue: JobQueue
    let intervalMilliseconds: Int
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sample()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(intervalMilliseconds)) }
        }
    }

    func sample() async {
        do {
            let orders = try await figures.orderCounts()
            // Every status, so a status whose last order moved on reads 0, not its old count.
            for status in OrderStatus.allCases {
                metrics.gauge("fastest_orders", [("status", status.rawValue)]).record(orders[status.rawValue] ?? 0)
            }
        } catch {
            logger.warning("metrics sample of orders failed", metadata: ["error": "\(error)"])
        }
        do {
            let depths = try await queue.depths()
            for name in Set(queue.catalog.queues).union(depths.ready.keys) {
                metrics.gauge("fastest_queue_ready_jobs", [("queue", name)]).record(depths.ready[name] ?? 0)
            }
            metrics.gauge("fastest_queue_in_flight_jobs").record(depths.inFlight)
            metrics.gauge("fastest_queue_delayed_jobs").record(depths.delayed)
            metrics.gauge("fastest_dead_jobs").record(depths.dead)
            metrics.gauge("fastest_workers_alive").record(depths.liveWorkers)
        } catch {
            logger.warning("metrics sample of the queues failed", metadata: ["error": "\(error)"])
        }
    }
}
