import CurlHTTP
import Foundation
import ShopDomain

/// `refund.requested` (docs/payments.md, "Refunds"): the same endpoint, headers and signing as a charge,
/// with the refund's own stable `webhook-id` / `Idempotency-Key`.
extension PaymentClient {
    public struct Refund: Sendable {
        public let orderID: Int
        public let paymentID: String
        public let amountCents: Int
        public let currency: String
        public let webhookID: String

        public init(orderID: Int, paymentID: String, amountCents: Int, currency: String, webhookID: String) {
            self.orderID = orderID
            self.paymentID = paymentID
            self.amountCents = amountCents
            self.currency = currency
            self.webhookID = webhookID
        }
    }

    public enum RefundAnswer: Sendable, Equatable {
        case refunded(refundID: String?, httpStatus: Int)
        case pending(refundID: String?, httpStatus: Int)
        /// A 4xx other than 408/429: the provider will not refund this.
        case refused(httpStatus: Int)
        case retryable(httpStatus: Int?, retryAfterMilliseconds: Int?, reason: String)
    }

    public func refund(_ refund: Refund, now: Date = Date()) async -> RefundAnswer {
        // Built by hand like the charge: numbers, the three-letter currency, and the provider's
        // payment id, escaped as a JSON string.
        let paymentID = String(decoding: (try? JSONEncoder().encode(refund.paymentID)) ?? Data("\"\"".utf8), as: UTF8.self)
        let body = Array(
            """
            {"type":"refund.requested","order_id":\(refund.orderID),"payment_id":\(paymentID),\
            "amount_cents":\(refund.amountCents),"currency":"\(refund.currency)"}
            """.utf8)
        let headers = WebhookHeaders(
            signing: body, secret: configuration.secret, id: refund.webhookID, timestamp: Int(now.timeIntervalSince1970))
        let request = HTTPRequest(
            method: "POST", url: configuration.url,
            headers: headers.fields + [("Content-Type", "application/json"), ("Idempotency-Key", refund.webhookID)],
            body: body,
            connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
            timeoutMilliseconds: configuration.timeoutMilliseconds)
        do {
            return Self.classifyRefund(try await http.execute(request))
        } catch {
            return .retryable(httpStatus: nil, retryAfterMilliseconds: nil, reason: "\(error)")
        }
    }

    static func classifyRefund(_ response: HTTPResponse) -> RefundAnswer {
        let status = response.status
        switch status {
        case 200..<300:
            struct Body: Decodable {
                let status: String
                let refund_id: String?
            }
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)) else {
                return .retryable(httpStatus: status, retryAfterMilliseconds: nil, reason: "unreadable 2xx answer")
            }
            switch body.status {
            case "refunded": return .refunded(refundID: body.refund_id, httpStatus: status)
            case "pending": return .pending(refundID: body.refund_id, httpStatus: status)
            default: return .retryable(httpStatus: status, retryAfterMilliseconds: nil, reason: "unknown status '\(body.status)'")
            }
        case 408, 429, 500..<600:
            return .retryable(
                httpStatus: status, retryAfterMilliseconds: retryAfter(response.header("Retry-After")),
                reason: "provider answered \(status)")
        default:
            return .refused(httpStatus: status)
        }
    }
}
