/// Repairs derived state of live drops from PostgreSQL: rebuilds open-run admission gates that
/// Redis lost and corrects their drift (``DropHooks/reconcile()``).
public struct GateReconciler: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        /// Gates of live open-runs checked against PostgreSQL.
        public let gates: Int
        public var counts: [(name: String, value: Int)] { [("gates", gates)] }
    }

    public let name = "gate_reconciler"
    public let interval: Duration
    let hooks: any DropHooks

    public init(hooks: any DropHooks, interval: Duration) {
        self.hooks = hooks
        self.interval = interval
    }

    public func runOnce(term: Int) async throws -> Outcome {
        Outcome(gates: try await hooks.reconcile())
    }
}
