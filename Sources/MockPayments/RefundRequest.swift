import Foundation

/// The body of a `refund.requested` webhook (docs/payments.md, "Refunds").
struct RefundRequest: Sendable, Equatable {
    let orderID: Int
    let paymentID: String
    let amountCents: Int
    let currency: String

    /// Whether a webhook body asks for a refund (anything else is read as a charge).
    static func isRefund(jsonBytes: [UInt8]) -> Bool {
        struct Kind: Decodable { let type: String }
        return (try? JSONDecoder().decode(Kind.self, from: Data(jsonBytes)))?.type == "refund.requested"
    }

    init(jsonBytes: [UInt8]) throws(MockPaymentsProblem) {
        struct Body: Decodable {
            let order_id: Int
            let payment_id: String
            let amount_cents: Int
            let currency: String
        }
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(jsonBytes)) else {
            throw MockPaymentsProblem(.invalidRequest, "not a refund.requested webhook: order_id, payment_id, amount_cents, currency")
        }
        guard body.amount_cents > 0 else {
            throw MockPaymentsProblem(.invalidRequest, "not a refund.requested webhook: amount_cents must be positive")
        }
        orderID = body.order_id
        paymentID = body.payment_id
        amountCents = body.amount_cents
        currency = body.currency
    }
}

/// The 2xx answer to a refund: `{"status":"refunded","refund_id"}`.
struct RefundAnswer: Sendable, Equatable, Codable {
    let status: String
    let refundID: String

    enum CodingKeys: String, CodingKey {
        case status
        case refundID = "refund_id"
    }
}
