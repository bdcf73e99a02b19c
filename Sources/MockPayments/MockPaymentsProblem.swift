import Foundation
import Hummingbird

/// An error answer of the provider: an RFC 9457 problem document (`application/problem+json`)
/// with a stable `type` per ``Code``. `detail` never carries a secret or a signature.
struct MockPaymentsProblem: Error, HTTPResponseError, CustomStringConvertible {
    struct Code: Sendable, Equatable {
        let slug: String
        let title: String
        let status: HTTPResponse.Status

        static let badSignature = Code(slug: "bad-signature", title: "Bad webhook signature", status: .unauthorized)
        static let invalidRequest = Code(slug: "invalid-request", title: "Invalid request", status: .badRequest)
        static let idempotencyKeyReused = Code(
            slug: "idempotency-key-reused", title: "Idempotency-Key used for another charge", status: .unprocessableContent)
        static let notFound = Code(slug: "not-found", title: "Not found", status: .notFound)
        /// A refund the ledger will not pay: more than the order's charge, or the order again.
        static let refundRefused = Code(slug: "refund-refused", title: "Refund refused", status: .unprocessableContent)
        /// The `error` outcome: a simulated provider failure.
        static let providerError = Code(slug: "provider-error", title: "Provider error", status: .internalServerError)
        static let providerUnavailable = Code(
            slug: "provider-unavailable", title: "Provider unavailable", status: .serviceUnavailable)
    }

    let code: Code
    let detail: String
    var retryAfterSeconds: Int?

    init(_ code: Code, _ detail: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
    }

    static func invalidCharge(_ detail: String) -> MockPaymentsProblem {
        MockPaymentsProblem(.invalidRequest, "not a charge.requested webhook: \(detail)")
    }

    var status: HTTPResponse.Status { code.status }
    var description: String { "\(code.slug): \(detail)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        let document = Document(
            type: "urn:fastest-shop:mock-payments:problem:\(code.slug)", title: code.title, status: code.status.code,
            detail: detail)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try Self.encoder.encode(document))))
    }

    private struct Document: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}
