/// The Standard Webhooks header triple of one delivery: `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`.
public struct WebhookHeaders: Sendable, Equatable {
    public static let idName = "webhook-id"
    public static let timestampName = "webhook-timestamp"
    public static let signatureName = "webhook-signature"

    /// Stable across retries of one delivery, so the receiver can drop repeats.
    public var id: String
    /// Unix seconds.
    public var timestamp: Int
    public var signature: String

    public init(id: String, timestamp: Int, signature: String) {
        self.id = id
        self.timestamp = timestamp
        self.signature = signature
    }

    /// The headers of an outgoing delivery of `body`, signed with `secret`.
    public init(signing body: [UInt8], secret: String, id: String, timestamp: Int) {
        self.init(id: id, timestamp: timestamp, signature: WebhookSignature.sign(secret: secret, id: id, timestamp: timestamp, body: body))
    }

    /// The headers of an incoming delivery, as the HTTP layer found them (`nil` when absent).
    public init(id: String?, timestamp: String?, signature: String?) throws(WebhookSignatureError) {
        guard let id, !id.isEmpty, let timestamp, !timestamp.isEmpty, let signature, !signature.isEmpty else {
            throw WebhookSignatureError(.missingHeader, "a delivery needs the webhook-id, webhook-timestamp and webhook-signature headers")
        }
        guard let seconds = Int(timestamp) else {
            throw WebhookSignatureError(.malformedHeader, "webhook-timestamp is not a number of seconds")
        }
        self.init(id: id, timestamp: seconds, signature: signature)
    }

    /// Name and value pairs, ready for an HTTP request.
    public var fields: [(name: String, value: String)] {
        [(Self.idName, id), (Self.timestampName, String(timestamp)), (Self.signatureName, signature)]
    }

    /// Checks that these headers sign `body` with `secret` and are fresh; see ``WebhookSignature/verify(secret:id:timestamp:body:signatureHeader:now:tolerance:)``.
    public func verify(
        body: [UInt8], secret: String, now: Int, tolerance: Int = WebhookSignature.defaultTolerance
    ) throws(WebhookSignatureError) {
        try WebhookSignature.verify(
            secret: secret, id: id, timestamp: timestamp, body: body, signatureHeader: signature, now: now,
            tolerance: tolerance)
    }
}
