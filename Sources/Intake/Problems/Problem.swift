import Foundation
import Hummingbird
import ShopDomain
import Synchronization

/// Every error the API answers with: an RFC 9457 problem document (`application/problem+json`)
/// with a stable `type` per ``Code``.
///
/// `detail` is written for the client and must never carry a secret, a password or another
/// customer's data; it is also what gets logged.
public struct Problem: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    /// A stable kind of problem: its URN slug, title and status never change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let slug: String
        public let title: String
        public let status: HTTPResponse.Status

        public var type: String { "urn:fastest-shop:problem:\(slug)" }
        public var description: String { slug }

        public static let invalidRequest = Code(slug: "invalid-request", title: "Invalid request", status: .badRequest)
        public static let unauthorized = Code(slug: "unauthorized", title: "Authentication required", status: .unauthorized)
        public static let forbidden = Code(slug: "forbidden", title: "Not allowed", status: .forbidden)
        public static let notFound = Code(slug: "not-found", title: "Not found", status: .notFound)
        public static let methodNotAllowed = Code(slug: "method-not-allowed", title: "Method not allowed", status: .methodNotAllowed)
        public static let emailTaken = Code(slug: "email-taken", title: "Email already registered", status: .conflict)
        public static let notOpen = Code(slug: "not-open", title: "Drop not open", status: .conflict)
        public static let soldOut = Code(slug: "sold-out", title: "Sold out", status: .conflict)
        public static let alreadyPurchased = Code(slug: "already-purchased", title: "Already purchased", status: .conflict)
        public static let notDrawn = Code(slug: "not-drawn", title: "Drop not drawn yet", status: .conflict)
        public static let notPaid = Code(slug: "not-paid", title: "Order not paid", status: .conflict)
        public static let dropFinal = Code(slug: "drop-final", title: "Drop already settled", status: .conflict)
        public static let payloadTooLarge = Code(slug: "payload-too-large", title: "Payload too large", status: .contentTooLarge)
        public static let rateLimited = Code(slug: "rate-limited", title: "Too many requests", status: .tooManyRequests)
        public static let unavailable = Code(slug: "unavailable", title: "Service unavailable", status: .serviceUnavailable)
        public static let internalError = Code(slug: "internal", title: "Internal error", status: .internalServerError)

        public static let all: [Code] = [
            .invalidRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .emailTaken, .notOpen, .soldOut, .alreadyPurchased, .notDrawn,
            .notPaid, .dropFinal,
            .payloadTooLarge, .rateLimited, .unavailable, .internalError,
        ]
    }

    public let code: Code
    public let detail: String
    /// Field-level issues of an `invalid-request`.
    public var errors: [ValidationIssue]
    /// Seconds until a retry may succeed (`Retry-After`), for `rate-limited` and `unavailable`.
    public var retryAfterSeconds: Int?
    /// The methods the path does take (`Allow`), for `method-not-allowed`.
    public var allowedMethods: [String]?

    public init(
        _ code: Code, _ detail: String, errors: [ValidationIssue] = [], retryAfterSeconds: Int? = nil, allowedMethods: [String]? = nil
    ) {
        self.code = code
        self.detail = detail
        self.errors = errors
        self.retryAfterSeconds = retryAfterSeconds
        self.allowedMethods = allowedMethods
    }

    public var status: HTTPResponse.Status { code.status }

    public var description: String {
        errors.isEmpty ? "\(code.slug): \(detail)" : "\(code.slug): \(detail) (\(errors.map(\.description).joined(separator: "; ")))"
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allowedMethods { headers[.allow] = allowedMethods.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encodedBody())))
    }

    /// The JSON body. Problems without field errors repeat by the thousand (every sold-out buyer
    /// of a rush gets the same one), so their bodies are encoded once and kept.
    private func encodedBody() throws -> [UInt8] {
        guard errors.isEmpty else { return Array(try Problem.encoder.encode(Document(self))) }
        let key = code.slug + "\u{0}" + detail
        if let cached = Problem.encodedBodies.withLock({ $0[key] }) { return cached }
        let body = Array(try Problem.encoder.encode(Document(self)))
        Problem.encodedBodies.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }
            cache[key] = body
        }
        return body
    }

    private static let encodedBodies = Mutex<[String: [UInt8]]>([:])

    private struct Document: Encodable {
        struct FieldError: Encodable {
            let field: String
            let message: String
        }
        let type: String
        let title: String
        let status: Int
        let detail: String
        let errors: [FieldError]?

        init(_ problem: Problem) {
            type = problem.code.type
            title = problem.code.title
            status = problem.code.status.code
            detail = problem.detail
            errors = problem.errors.isEmpty ? nil : problem.errors.map { FieldError(field: $0.field, message: $0.message) }
        }
    }

    private static let encoder = JSONEncoder()
}

extension Problem {
    /// The answer for anything that does not exist, or that the caller may not know exists.
    static func notFound(_ what: String) -> Problem { Problem(.notFound, "no such \(what)") }

    static func invalid(_ failure: ValidationFailure) -> Problem {
        Problem(.invalidRequest, "the request has invalid fields", errors: failure.issues)
    }
}
