import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Postgres
import ShopDomain
import ShopJobs
import Storage

/// `POST /v1/payments/callback`: the provider reports how a pending charge or refund ended
/// (docs/payments.md, "Callbacks"). A charge success for an order already expired, failed or cancelled
/// is recorded and refunded.
///
/// Authenticated by the Standard Webhooks signature with the provider's secret (constant-time,
/// 300 s tolerance), not by a bearer token. A repeated `webhook-id` is acknowledged and ignored;
/// a final order state never moves backwards; an unknown order is 404 with no side effect.
struct PaymentCallbackRoutes: RouteGroup {
    let pool: PostgresPool
    let secret: String
    let paymentWindowSeconds: Int
    let followUp: SettlementFollowUp
    let metrics: IntakeMetrics

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/payments/callback", receive)
    }

    struct Callback: Decodable {
        let type: String
        let order_id: Int
        let payment_id: String?
        let refund_id: String?
    }

    @Sendable func receive(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let body = Array(try await request.body.collect(upTo: .max).readableBytesView)
        do {
            let headers = try WebhookHeaders(
                id: request.headers[.webhookID], timestamp: request.headers[.webhookTimestamp],
                signature: request.headers[.webhookSignature])
            try headers.verify(body: body, secret: secret, now: Int(Date().timeIntervalSince1970))
        } catch {
            throw Problem(.unauthorized, "the callback signature is missing, stale or wrong")
        }
        let webhookID = request.headers[.webhookID] ?? ""
        let callback = try IntakeJSON.decoder.decode(Callback.self, from: Data(body))
        guard let kind = PaymentEventStore.Kind(rawValue: callback.type) else {
            throw Problem(
                .invalidRequest, "unknown callback type",
                errors: [
                    ValidationIssue(
                        field: "type", message: "must be charge.succeeded, charge.failed, refund.succeeded or refund.failed")
                ])
        }
        // A refund callback names its refund; the event keeps it where a charge keeps its payment.
        let paymentID = kind.isRefund ? callback.refund_id : callback.payment_id
        let outcome = try await pool.withConnection { [paymentWindowSeconds] connection in
            try PaymentEventStore.record(
                connection, webhookID: webhookID, kind: kind, orderID: callback.order_id, paymentID: paymentID,
                paymentWindowSeconds: paymentWindowSeconds)
        }
        switch outcome {
        case .unknownOrder:
            throw Problem.notFound("order")
        case .duplicate:
            break
        case .applied(let effect):
            metrics.callbackApplied(type: kind.rawValue)
            // Committed; if Redis fails here the scheduler's reconcile re-enqueues the work.
            do {
                try await followUp.run([effect])
            } catch {
                context.logger.warning("callback follow-up failed; reconcile will repair it", metadata: ["error": "\(error)"])
            }
        }
        return Response(status: .noContent)
    }
}

extension HTTPField.Name {
    static let webhookID = Self(WebhookHeaders.idName)!
    static let webhookTimestamp = Self(WebhookHeaders.timestampName)!
    static let webhookSignature = Self(WebhookHeaders.signatureName)!
}
