/// One piece of the scheduler leader's periodic work, run on its own interval (as River's
/// maintenance services are): promoter, rescuer, drop opener, drop closer, order reconciler,
/// gate reconciler. Only the leader runs them (``SchedulerService``); each run reports what it
/// did, which the scheduler's metrics and the tests read.
public protocol MaintenanceService: Sendable {
    associatedtype Outcome: MaintenanceOutcome

    /// Stable and short: the `service` label of the scheduler's metrics, and its logs.
    var name: String { get }
    /// Time from the end of one run to the start of the next.
    var interval: Duration { get }
    /// One run. `term` is the leader's fencing term: a move in PostgreSQL applies only while it
    /// is still the current term. Work in Redis needs no term: it is keyed so that two leaders
    /// doing it twice do it once.
    func runOnce(term: Int) async throws -> Outcome
}

/// What one run of a ``MaintenanceService`` did.
public protocol MaintenanceOutcome: Sendable {
    /// Its figures by name (`promoted`, `rescued`, …), in a stable order, for the metrics.
    var counts: [(name: String, value: Int)] { get }
}
