import JobQueue
import Storage

/// What must happen after a settlement commits, outside PostgreSQL: charge jobs for entrants
/// promoted from a waitlist, an expiry job for an order now waiting for its callback, and open-run
/// units handed back to the admission gate. If this fails (Redis down), the scheduler's reconcile
/// repairs it from PostgreSQL, so a failure here loses nothing.
public struct SettlementFollowUp: Sendable {
    public typealias ReturnUnits = @Sendable (_ dropID: Int, _ count: Int) async throws -> Void

    let queue: JobQueue
    let returnUnits: ReturnUnits?

    public init(queue: JobQueue, returnUnits: ReturnUnits? = nil) {
        self.queue = queue
        self.returnUnits = returnUnits
    }

    public func run(_ effects: [SettlementEffect]) async throws {
        var jobs: [ShopJob] = []
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
