import CurlHTTP
import Foundation
import ShopDomain

/// Sends `charge.requested` webhooks to the payment provider (docs/payments.md, "Charges") and
/// classifies answers.
///
/// Every retry of one order's charge carries the same `webhook-id` and `Idempotency-Key` (the
/// order's stored webhook id), so a provider that already charged answers with that charge
/// instead of charging again.
public struct PaymentClient: Sendable {
    public struct Configuration: Sendable {
        public var url: String
        public var secret: String
        public var timeoutMilliseconds: Int
        public var connectTimeoutMilliseconds: Int

        public init(url: String, secret: String, timeoutMilliseconds: Int, connectTimeoutMilliseconds: Int) {
            self.url = url
            self.secret = secret
            self.timeoutMilliseconds = timeoutMilliseconds
            self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        }
    }

    public struct Charge: Sendable {
        public let orderID: Int
        public let dropID: Int
        public let userID: Int
        public let amountCents: Int
        public let currency: String
        public let webhookID: String

        public init(orderID: Int, dropID: Int, userID: Int, amountCents: Int, currency: String, webhookID: String) {
            self.orderID = orderID
            self.dropID = dropID
            self.userID = userID
            self.amountCents = amountCents
            self.currency = currency
            self.webhookID = webhookID
        }
    }

    public enum Answer: Sendable, Equatable {
        case succeeded(paymentID: String, httpStatus: Int)
        case declined(httpStatus: Int)
        case pending(paymentID: String?, httpStatus: Int)
        /// 408, 429, 5xx, a timeout, a connection error or a garbled 2xx: try again later.
        case retryable(httpStatus: Int?, retryAfterMilliseconds: Int?, reason: String)
    }

    let configuration: Configuration
    let http: CurlHTTPClient

    public init(configuration: Configuration, http: CurlHTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    public func charge(_ charge: Charge, now: Date = Date()) async -> Answer {
        // Built by hand: every field is a number except the currency, which the schema pins to
        // three capital letters.
        let body = Array(
            """
            {"type":"charge.requested","order_id":\(charge.orderID),"drop_id":\(charge.dropID),\
            "user_id":\(charge.userID),"amount_cents":\(charge.amountCents),"currency":"\(charge.currency)"}
            """.utf8)
        let headers = WebhookHeaders(
            signing: body, secret: configuration.secret, id: charge.webhookID, timestamp: Int(now.timeIntervalSince1970))
        let request = HTTPRequest(
            method: "POST", url: configuration.url,
            headers: headers.fields + [("Content-Type", "application/json"), ("Idempotency-Key", charge.webhookID)],
            body: body,
            connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
            timeoutMilliseconds: configuration.timeoutMilliseconds)
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            return .retryable(httpStatus: nil, retryAfterMilliseconds: nil, reason: "\(error)")
        }
        return Self.classify(response)
    }

    static func classify(_ response: HTTPResponse) -> Answer {
        let status = response.status
        switch status {
        case 200..<300:
            struct Body: Decodable {
                let status: String
                let payment_id: String?
            }
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)) else {
                return .retryable(httpStatus: status, retryAfterMilliseconds: nil, reason: "unreadable 2xx answer")
            }
            switch body.status {
            case "succeeded":
                guard let paymentID = body.payment_id, !paymentID.isEmpty else {
                    return .retryable(httpStatus: status, retryAfterMilliseconds: nil, reason: "succeeded without a payment_id")
                }
                return .succeeded(paymentID: paymentID, httpStatus: status)
            case "declined":
                return .declined(httpStatus: status)
            case "pending":
                return .pending(paymentID: body.payment_id, httpStatus: status)
            default:
                return .retryable(httpStatus: status, retryAfterMilliseconds: nil, reason: "unknown status '\(body.status)'")
            }
        case 408, 429, 500..<600:
            return .retryable(
                httpStatus: status, retryAfterMilliseconds: retryAfter(response.header("Retry-After")),
                reason: "provider answered \(status)")
        default:
            return .declined(httpStatus: status)
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now.
    static func retryAfter(_ value: String?, now: Date = Date()) -> Int? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        // Any number of digits: a value past Int's range is as good as "forever" (the caller
        // clamps it to its backoff cap and the payment window), never a trap.
        if value.utf8.allSatisfy({ (48...57).contains($0) }) {
            guard let seconds = Int(value) else { return Int.max }
            let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            return overflow ? Int.max : milliseconds
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let milliseconds = date.timeIntervalSince(now) * 1000
        return milliseconds >= Double(Int.max) ? Int.max : max(0, Int(milliseconds))
    }
}

/// Describes and mirrors itself without the signing secret: a configuration printed into a log
/// line, or dumped with something that holds it, must not carry the secret along.
extension PaymentClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "PaymentClient.Configuration(url: \(url), secret: \(secret.isEmpty ? "<none>" : "<redacted>"), timeoutMilliseconds: \(timeoutMilliseconds))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": url, "secret": secret.isEmpty ? "<none>" : "<redacted>", "timeoutMilliseconds": timeoutMilliseconds,
                "connectTimeoutMilliseconds": connectTimeoutMilliseconds,
            ], displayStyle: .struct)
    }
}
