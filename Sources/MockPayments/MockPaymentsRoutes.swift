import Foundation
import Hummingbird

/// The provider's HTTP surface: charges, and what tests and benchmarks read to check them.
struct MockPaymentsRoutes: Sendable {
    let chargePath: String
    let charges: ChargeEndpoint
    let ledger: ChargeLedger

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let charges = charges
        let ledger = ledger
        router.post(RouterPath(chargePath)) { request, _ in
            try await charges.charge(request)
        }
        // The charges recorded for one order: more than one succeeded means a double charge.
        router.get(RouterPath(chargePath)) { request, _ in
            guard let orderID = request.uri.queryParameters.get("order_id", as: Int.self) else {
                throw MockPaymentsProblem(.invalidRequest, "order_id (an integer) is required")
            }
            return try JSONResponse.make(ChargeList(charges: ledger.records(orderID: orderID)))
        }
        router.get(RouterPath(chargePath + "/:key")) { _, context in
            let raw = try context.parameters.require("key")
            let key = raw.removingPercentEncoding ?? raw
            guard let record = ledger.record(idempotencyKey: key) else {
                throw MockPaymentsProblem(.notFound, "no charge was answered under this Idempotency-Key")
            }
            return try JSONResponse.make(ChargeList(charges: [record]))
        }
        router.get("/v1/stats") { _, _ in
            try JSONResponse.make(ledger.stats)
        }
        // Money kept per customer (charged − refunded), by user id.
        router.get("/v1/ledger") { _, _ in
            try JSONResponse.make(Dictionary(uniqueKeysWithValues: ledger.keptByCustomer.map { (String($0.key), $0.value) }))
        }
        // For benchmarks that reuse one provider across rounds.
        router.post("/v1/reset") { _, _ in
            ledger.reset()
            return Response(status: .noContent)
        }
        return router
    }

    private struct ChargeList: Encodable {
        let charges: [ChargeRecord]
    }
}
