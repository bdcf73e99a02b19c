/// Why a webhook delivery was refused. The description is safe to log: it never holds the secret
/// or the expected signature.
public struct WebhookSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A `webhook-*` header is absent or empty.
        case missingHeader = "missing-header"
        /// A `webhook-*` header is present but unreadable.
        case malformedHeader = "malformed-header"
        case staleTimestamp = "stale-timestamp"
        case futureTimestamp = "future-timestamp"
        case badSignature = "bad-signature"
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
