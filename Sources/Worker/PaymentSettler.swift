import Metrics
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// Applies payment outcomes with group commit, then runs their follow-up (promoted charges,
/// expiry jobs, open-run units back on sale). Used by the charge and expiry jobs.
public final class PaymentSettler: Sendable {
    private let writer: GroupCommitWriter<Settlement, SettlementEffect>
    private let followUp: SettlementFollowUp

    public init(pool: PostgresPool, paymentWindowSeconds: Int, followUp: SettlementFollowUp, maxBatch: Int = 500) {
        let batchSizes = Recorder(label: "fastest_settlement_batch_size")
        self.writer = GroupCommitWriter(
            pool: pool, maxBatch: maxBatch, writers: 1, policy: .retryOnceThenEachAlone, onBatch: { batchSizes.record($0) },
            body: { connection, settlements, _ in
                try connection.transaction {
                    try OrderSettlementStore.apply($0, settlements, paymentWindowSeconds: paymentWindowSeconds)
                }
            })
        self.followUp = followUp
    }

    /// Commits the outcome (shared transaction with other concurrent outcomes), then follows up.
    @discardableResult
    public func settle(_ settlement: Settlement) async throws -> SettlementEffect {
        let effect = try await writer.submit(settlement)
        try await followUp.run([effect])
        return effect
    }
}
