import Foundation
import JobQueue
import Logging
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// `drop.close`: draws a closed draw or raffle (docs/contract.md, "Draw protocol v1") and offers its
/// units to the winners.
///
/// Entries are frozen (the drop is `closing`; entry batches hold `FOR SHARE` on the drop row, so
/// the move to `closing` waited for them). The ranking is a pure function of the stored seed and
/// entries, so a redelivered job computes the same ranking, and the commit only applies while the
/// drop is still `closing`: a second run never creates a second set of orders.
struct CloseDropHandler: JobHandler {
    let pool: PostgresPool
    let queue: JobQueue
    let paymentWindowSeconds: Int

    func handle(_ context: JobContext) async throws {
        guard case .closeDrop(let dropID)? = ShopJob(kind: context.kind, payload: context.payload) else {
            throw PermanentJobFailure("drop.close payload is not {\"drop_id\": …}")
        }
        guard let drop = try await pool.withConnection({ try DrawStore.drop($0, id: dropID) }) else {
            throw PermanentJobFailure("drop \(dropID) does not exist")
        }
        guard drop.kind.isDrawn else { throw PermanentJobFailure("drop \(dropID) is an open-run; there is nothing to draw") }

        let committed: DrawStore.Committed
        if drop.status == .closing {
            guard let seed = drop.seed else { throw PermanentJobFailure("drop \(dropID) has no seed") }
            let started = ContinuousClock.now
            var phases = DrawPhases()
            let (entries, digest) = try await pool.withConnection { try DrawStore.canonicalEntries($0, dropID: dropID) }
            phases.record("entries", started.duration(to: .now))
            let input = DrawInput(
                dropID: dropID, seed: seed, beacon: drop.beacon, entries: entries, stock: drop.stock,
                waitlistDepth: drop.waitlistDepth)
            let result = try phases.measure("draw") { try DrawProtocolV1.draw(input, entriesDigest: digest) }
            CrashPoint.closeAfterDraw.reached()
            // The bundle shares the entries' arrays; it is written in chunks inside the commit.
            let bundle = AuditBundle(input: input, result: result)
            committed = try await pool.withConnection { [paymentWindowSeconds] connection in
                // A ten-million-entry bundle takes longer to write than a statement's usual wait.
                try connection.withoutReplyTimeout {
                    try DrawStore.commitDraw(
                        connection, dropID: dropID, result: result, bundle: bundle, paymentWindowSeconds: paymentWindowSeconds)
                }
            }
            CrashPoint.closeAfterCommit.reached()
            let enqueueStarted = ContinuousClock.now
            try await queue.enqueue(committed.orders.map { ShopJob.chargeOrder(orderID: $0) })
            if committed.drewNow {
                phases.append(committed.phases)
                phases.record("enqueue", enqueueStarted.duration(to: .now))
                var metadata: Logger.Metadata = [
                    "drop": .stringConvertible(dropID), "entries": .stringConvertible(entries.count),
                    "winners": .stringConvertible(result.winners.count), "waitlist": .stringConvertible(result.waitlist.count),
                    "seconds": .stringConvertible(started.duration(to: .now)),
                ]
                for (key, value) in phases.secondsByKey { metadata[key] = .string(value) }
                context.logger.info("drew drop", metadata: metadata)
            }
        } else {
            // Drawn earlier; a crash may have come between the commit and the charge jobs.
            committed = DrawStore.Committed(
                orders: try await pool.withConnection { try DrawStore.pendingChargeOrders($0, dropID: dropID) }, drewNow: false)
            try await queue.enqueue(committed.orders.map { ShopJob.chargeOrder(orderID: $0) })
        }
    }
}
