import CoreMetrics
import Hummingbird
import JobQueue
import Logging
import OpenRunGate
import Postgres
import Settings
import ShopDomain
import ShopJobs
import Storage

/// `POST /v1/drops/{id}/purchase`: open-run, first come first served (docs/contract.md, "What the
/// product is"; issue 6).
///
/// With the `gate` strategy, every buyer first passes the Redis admission gate; refusals answer
/// at once without touching PostgreSQL. Admitted buyers are confirmed in PostgreSQL in batches
/// (one `FOR UPDATE` on the stock row serves many buyers); the 201 is sent after the commit.
/// The `classic` strategy — one `FOR UPDATE` transaction per request — exists as the benchmark's
/// baseline.
struct PurchaseRoutes: RouteGroup {
    let strategy: ShopSettings.OpenRunStrategy
    let gate: AdmissionGate
    let gateLoader: GateLoader
    let confirmations: GroupCommitWriter<PurchaseStore.Request, PurchaseStore.Result>
    let pool: PostgresPool
    let queue: JobQueue
    let paymentWindowSeconds: Int
    let metrics: IntakeMetrics

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/drops/{id}/purchase", purchase)
    }

    @Sendable func purchase(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard user.role == .customer else { throw Problem(.forbidden, "only customers purchase") }
        let dropID = try context.id(of: "drop")
        let result: PurchaseStore.Result
        switch strategy {
        case .classic:
            metrics.purchasesDecidedInPostgres.increment()
            result = try await pool.transaction { [paymentWindowSeconds] connection in
                try PurchaseStore.confirm(
                    connection, [PurchaseStore.Request(dropID: dropID, userID: user.id)],
                    paymentWindowSeconds: paymentWindowSeconds)[0]
            }
        case .gate:
            result = try await throughGate(dropID: dropID, userID: user.id, logger: context.logger)
        }
        metrics.purchaseAnswered(Self.metricsResult(result))
        switch result {
        case .created(let order) where order.status == .paid:
            // Free (price 0): paid at once, nothing to charge.
            return try .json(OrderDocument(order), status: .created)
        case .created(let order):
            do {
                try await queue.enqueue([ShopJob.chargeOrder(orderID: order.id)])
            } catch {
                // Committed: the scheduler's reconcile enqueues the charge from PostgreSQL.
                context.logger.warning("charge job not enqueued; reconcile will", metadata: ["order": .stringConvertible(order.id)])
            }
            return try .json(OrderDocument(order), status: .created)
        case .soldOut: throw Problem(.soldOut, "every unit of this drop is taken")
        case .alreadyPurchased: throw Problem(.alreadyPurchased, "you already purchased from this drop")
        case .notOpen: throw Problem(.notOpen, "this drop is not an open-run open for purchases")
        case .notFound: throw Problem.notFound("drop")
        }
    }

    private func throughGate(dropID: Int, userID: Int, logger: Logger) async throws -> PurchaseStore.Result {
        var decision = try await gate.admit(dropID: dropID, userID: userID)
        if decision == .missing {
            // Never loaded, or Redis lost it: rebuild from PostgreSQL (one load per drop, however
            // many buyers ask at once; concurrent rebuilders in other processes agree) and ask again.
            try await gateLoader.loadIfMissing(dropID: dropID)
            decision = try await gate.admit(dropID: dropID, userID: userID)
        }
        if decision == .admitted {
            metrics.purchasesDecidedInPostgres.increment()
        } else if decision != .missing && decision != .late {
            metrics.purchasesDecidedByGate.increment()
        }
        switch decision {
        case .soldOut: return .soldOut
        case .alreadyPurchased: return .alreadyPurchased
        case .notOpen: return .notOpen
        case .notFound: return .notFound
        case .missing:
            metrics.purchaseAnswered(.unavailable)
            throw Problem.unavailable("the admission gate is being rebuilt")
        case .late:
            metrics.purchaseAnswered(.unavailable)
            throw Problem.unavailable("the admission gate did not answer in time")
        case .admitted: break
        }
        let result: PurchaseStore.Result
        do {
            result = try await confirmations.submit(PurchaseStore.Request(dropID: dropID, userID: userID))
        } catch let error as PostgresError where error.mayHaveCommitted {
            // The order may exist (only the COMMIT's answer is lost): giving the unit back could
            // let the gate hand it out twice. The admission stays pending; reconcile settles it
            // from PostgreSQL once it answers (confirmed if the order is there, released after
            // the pending horizon if not).
            throw error
        } catch {
            // PostgreSQL failed after admission: the unit goes back and the buyer may retry (503).
            try? await gate.compensate(dropID: dropID, userID: userID, keepBuyer: false)
            throw error
        }
        switch result {
        case .created:
            try? await gate.confirmed(dropID: dropID, userID: userID)
        case .alreadyPurchased:
            try? await gate.compensate(dropID: dropID, userID: userID, keepBuyer: true)
        case .soldOut, .notOpen, .notFound:
            // The gate admitted more than PostgreSQL holds (it drifted): give the admission back
            // and resynchronise it from PostgreSQL.
            try? await gate.compensate(dropID: dropID, userID: userID, keepBuyer: false)
            try? await gateLoader.reload(dropID: dropID)
            logger.notice("admission gate disagreed with PostgreSQL; resynchronised", metadata: ["drop": .stringConvertible(dropID)])
        }
        return result
    }
}

extension PurchaseRoutes {
    /// A decided purchase as `fastest_purchases_total` counts it.
    static func metricsResult(_ result: PurchaseStore.Result) -> IntakeMetrics.PurchaseResult {
        switch result {
        case .created: .admitted
        case .soldOut: .soldOut
        case .alreadyPurchased: .alreadyPurchased
        case .notOpen: .notOpen
        case .notFound: .notFound
        }
    }
}
