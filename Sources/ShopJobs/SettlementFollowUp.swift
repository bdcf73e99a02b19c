import JobQueue
import Metrics
import ShopDomain
import Storage

/// What must happen after a settlement commits, outside PostgreSQL: charge jobs for entrants
/// promoted from a waitlist, an expiry job for an order now waiting for its callback, and open-run
/// units handed back to the admission gate, and refund jobs for money taken for no unit. If this fails (Redis down), the scheduler's reconcile
/// repairs it from PostgreSQL, so a failure here loses nothing.
public struct SettlementFollowUp: Sendable {
    public typealias ReturnUnits = @Sendable (_ dropID: Int, _ count: Int) async throws -> Void

    let queue: JobQueue
    let returnUnits: ReturnUnits?

    /// `lateSuccesses`: `payments_late_success_total`, from the process's metrics system unless
    /// the caller keeps its own registry (the intake). Created now, so it is exported at 0 before
    /// the first late success.
    public init(queue: JobQueue, returnUnits: ReturnUnits? = nil, lateSuccesses: Counter? = nil) {
        self.queue = queue
        self.returnUnits = returnUnits
        self.lateSuccesses = lateSuccesses ?? Counter(label: "payments_late_success_total")
    }

    /// Successes that came for an order already expired, failed or cancelled (each is refunded).
    private let lateSuccesses: Counter

    public func run(_ effects: [SettlementEffect]) async throws {
        var jobs: [ShopJob] = []
        for effect in effects {
            // Not `applied` (the order was already final), but money came in: pay it back.
            jobs += effect.refundOrderIDs.map { ShopJob.refundOrder(orderID: $0) }
            if effect.lateSuccess { lateSuccesses.increment() }
        }
        for effect in effects where effect.applied {
            jobs += effect.promotedOrders.map { ShopJob.chargeOrder(orderID: $0) }
            if let expiresAt = effect.expiresAtMilliseconds {
                jobs.append(.expireOrder(orderID: effect.orderID, atMilliseconds: expiresAt))
            }
        }
        if !jobs.isEmpty { try await queue.enqueue(jobs) }
        if let returnUnits {
            for effect in effects where effect.applied && effect.unitsReturnedToSale > 0 {
                if let dropID = effect.dropID { try await returnUnits(dropID, effect.unitsReturnedToSale) }
            }
        }
    }
}
