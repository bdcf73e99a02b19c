import OpenRunGate
import Postgres
import ShopDomain
import Storage

/// Keeps open-run admission gates in step with PostgreSQL: loads a gate when its drop opens,
/// stops it when the drop closes, and on every reconcile rebuilds lost gates and repairs drift.
public struct OpenRunGateHooks: DropHooks {
    let pool: PostgresPool
    let gate: AdmissionGate

    public init(pool: PostgresPool, gate: AdmissionGate) {
        self.pool = pool
        self.gate = gate
    }

    public func opened(_ drops: [DropLifecycleStore.Moved]) async throws {
        // The rebuild buyers use too: it reconciles, so admissions buyers made between the
        // drop's move to open and this stay counted.
        let loader = GateLoader(pool: pool, gate: gate)
        for drop in drops where drop.kind == .openRun { try await loader.reload(dropID: drop.dropID) }
    }

    public func closed(_ drops: [DropLifecycleStore.Moved]) async throws {
        for drop in drops where drop.kind == .openRun { try await gate.close(dropID: drop.dropID) }
    }

    @discardableResult
    public func reconcile() async throws -> Int {
        let live = try await pool.withConnection { try PurchaseStore.liveOpenRuns($0) }
        for figures in live { try await gate.reconcile(figures.snapshot) }
        return live.count
    }
}
