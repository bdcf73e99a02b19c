import Metrics

/// The scheduler's metrics, from the outcomes of its maintenance runs.
struct MaintenanceMetrics: Sendable {
    let leader = Gauge(label: "fastest_scheduler_leader")
    /// Passes of the leader's loop (each runs the services then due).
    let ticks = Counter(label: "fastest_scheduler_ticks_total")
    let rescuedJobs = Counter(label: "fastest_scheduler_rescued_jobs_total")
    /// Jobs enqueued from PostgreSQL: close jobs and the order reconciler's.
    let reEnqueued = Counter(label: "fastest_scheduler_reconcile_enqueued_total")

    /// Created up front, so every service's figures are exported at 0 before its first run.
    init(services: [any MaintenanceService]) {
        for service in services {
            _ = Counter(label: "fastest_scheduler_maintenance_runs_total", dimensions: [("service", service.name)])
            _ = Counter(label: "fastest_scheduler_maintenance_failures_total", dimensions: [("service", service.name)])
        }
    }

    func record(_ outcome: any MaintenanceOutcome, of service: String) {
        Counter(label: "fastest_scheduler_maintenance_runs_total", dimensions: [("service", service)]).increment()
        for (name, value) in outcome.counts where value > 0 {
            Counter(label: "fastest_scheduler_maintenance_items_total", dimensions: [("service", service), ("item", name)])
                .increment(by: value)
        }
        switch outcome {
        case let rescue as JobRescuer.Outcome:
            rescuedJobs.increment(by: rescue.rescued + rescue.buried)
        case let close as DropCloser.Outcome:
            reEnqueued.increment(by: close.closeJobsEnqueued)
        case let reconcile as OrderReconciler.Outcome:
            reEnqueued.increment(by: reconcile.orderJobs + reconcile.refundJobs + reconcile.doubtChecks)
        default:
            break
        }
    }

    func recordFailure(of service: String) {
        Counter(label: "fastest_scheduler_maintenance_failures_total", dimensions: [("service", service)]).increment()
    }
}
