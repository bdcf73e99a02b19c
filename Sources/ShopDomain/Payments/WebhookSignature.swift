import Crypto
import Foundation

/// Webhook signatures in the Standard Webhooks scheme (docs/payments.md, "Webhook signatures"):
/// `v1,<base64 HMAC-SHA256(key: UTF-8 of secret, message: "<id>.<timestamp>.<body>")>`.
///
/// The key is the secret's UTF-8 bytes as configured, not a base64-decoded `whsec_` key.
public enum WebhookSignature {
    /// How far a timestamp may lie from the receiver's clock, either way, in seconds.
    public static let defaultTolerance = 300

    /// The `webhook-signature` value for one delivery.
    public static func sign(secret: String, id: String, timestamp: Int, body: [UInt8]) -> String {
        "v1," + Data(mac(secret: secret, id: id, timestamp: timestamp, body: body)).base64EncodedString()
    }

    /// Accepts the delivery when `signatureHeader` holds at least one `v1` signature of it (a sender
    /// rotating secrets sends several, space-separated) and `timestamp` is within `tolerance`
    /// seconds of `now`. Signatures of other versions are ignored.
    public static func verify(
        secret: String, id: String, timestamp: Int, body: [UInt8], signatureHeader: String?, now: Int,
        tolerance: Int = defaultTolerance
    ) throws(WebhookSignatureError) {
        guard let signatureHeader, !signatureHeader.allSatisfy(\.isWhitespace) else {
            throw WebhookSignatureError(.missingHeader, "the webhook-signature header is missing")
        }
        let candidates = try signatures(in: signatureHeader)
        if timestamp < now - tolerance {
            throw WebhookSignatureError(.staleTimestamp, "the webhook timestamp is more than \(tolerance) s old")
        }
        if timestamp > now + tolerance {
            throw WebhookSignatureError(.futureTimestamp, "the webhook timestamp is more than \(tolerance) s ahead")
        }
        let expected = mac(secret: secret, id: id, timestamp: timestamp, body: body)
        // HashedAuthenticationCode's == with bytes compares in constant time.
        guard candidates.contains(where: { expected == $0 }) else {
            throw WebhookSignatureError(.badSignature, "no signature in the webhook-signature header matches")
        }
    }

    /// The decoded `v1` signatures of a header; any entry not of the form `<version>,<base64>` makes
    /// the whole header malformed.
    private static func signatures(in header: String) throws(WebhookSignatureError) -> [Data] {
        var signatures: [Data] = []
        for entry in header.split(separator: " ", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let signature = Data(base64Encoded: String(parts[1])),
                !signature.isEmpty
            else {
                throw WebhookSignatureError(.malformedHeader, "the webhook-signature header is not a list of <version>,<base64>")
            }
            if parts[0] == "v1" { signatures.append(signature) }
        }
        return signatures
    }

    private static func mac(secret: String, id: String, timestamp: Int, body: [UInt8]) -> HMAC<SHA256>.MAC {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return hmac.finalize()
    }
}
