import Postgres
import ShopDomain
import Storage

/// Builds admission gates from PostgreSQL when Redis has none: on the first purchase of a drop
/// whose gate was never loaded, and after Redis lost its data.
///
/// Concurrent purchases of one drop share one load: a rush on a gate that is not loaded would
/// otherwise send every buyer to PostgreSQL at once. Drops that sell nothing through a gate (a
/// draw, an id that names no drop) are remembered in Redis for a while, so that their refusals
/// stay off PostgreSQL too.
public final class GateLoader: Sendable {
    let pool: PostgresPool
    let gate: AdmissionGate
    private let onLoad: @Sendable () -> Void
    private let loads = SingleFlight<Load, Void>()

    /// How long an id that names no drop is refused without asking PostgreSQL again. Short: a
    /// drop created with that id also ends it, but only on a best-effort basis.
    public static let unknownSeconds = 10
    /// How long a draw or raffle is refused without asking PostgreSQL again (its kind never
    /// changes; the expiry only keeps Redis from collecting such keys forever).
    public static let notForSaleSeconds = 3600

    /// - Parameter onLoad: called for each load from PostgreSQL (for metrics).
    public init(pool: PostgresPool, gate: AdmissionGate, onLoad: @escaping @Sendable () -> Void = {}) {
        self.pool = pool
        self.gate = gate
        self.onLoad = onLoad
    }

    /// Loads the drop's gate unless Redis has it, or joins the load already running for it.
    ///
    /// A buyer told "missing" just before another load finished comes here after it: the gate is
    /// there by then, and PostgreSQL is not asked again.
    public func loadIfMissing(dropID: Int) async throws {
        try await loads.task(for: .ifMissing(dropID)) {
            if try await self.gate.exists(dropID: dropID) { return }
            try await self.rebuild(dropID: dropID)
        }.value
    }

    /// Rebuilds the drop's gate from PostgreSQL (it disagreed with PostgreSQL). Buyers who find
    /// the same disagreement at once share one rebuild.
    public func reload(dropID: Int) async throws {
        try await loads.task(for: .now(dropID)) { try await self.rebuild(dropID: dropID) }.value
    }

    private enum Load: Hashable {
        case ifMissing(Int)
        case now(Int)
    }

    private func rebuild(dropID: Int) async throws {
        onLoad()
        var figures = try await self.figures(dropID)
        if figures == nil {
            try await gate.rememberUnknown(dropID: dropID, seconds: Self.unknownSeconds)
            // A drop created after the read above had its id forgotten as unknown before this
            // marker existed: look again, or its buyers would be told 404 for the marker's life.
            figures = try await self.figures(dropID)
            if figures != nil { try await gate.forgetUnknown(dropID: dropID) }
        }
        guard let figures else { return }
        guard figures.isOpenRun else {
            try await gate.rememberNotForSale(dropID: dropID, seconds: Self.notForSaleSeconds)
            return
        }
        try await gate.reconcile(figures.snapshot)
    }

    private func figures(_ dropID: Int) async throws -> PurchaseStore.GateFigures? {
        try await pool.withConnection { try PurchaseStore.gateFigures($0, dropID: dropID) }
    }
}

extension PurchaseStore.GateFigures {
    /// The gate these figures describe.
    public var snapshot: AdmissionGate.Snapshot {
        let phase: AdmissionGate.Phase =
            switch status {
            case .scheduled: .scheduled
            case .open: .open
            case .closing, .drawn, .closed, .settled, .cancelled: .closed
            }
        return AdmissionGate.Snapshot(dropID: dropID, phase: phase, isOpen: isOpen, available: available, buyers: buyers)
    }
}
