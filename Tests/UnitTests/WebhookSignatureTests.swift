import Testing

@testable import ShopDomain

@Suite struct WebhookSignatureTests {
    static let secret = "whsec_fastest_shop_test"
    static let id = "msg_01J9Z8K3CHARGE42"
    static let timestamp = 1_767_225_600
    static let body = Array(#"{"type":"charge.succeeded","order_id":42,"payment_id":"pay_7"}"#.utf8)

    /// Computed once with Python's hmac:
    /// python3 -c 'import hmac,hashlib,base64; print("v1,"+base64.b64encode(hmac.new(b"whsec_fastest_shop_test", b"msg_01J9Z8K3CHARGE42.1767225600.{\"type\":\"charge.succeeded\",\"order_id\":42,\"payment_id\":\"pay_7\"}", hashlib.sha256).digest()).decode())'
    static let signature = "v1,xGJ4skGJ/761t2vQEnf9GApUX9rMX2w2RMGysdyv/KY="

    static func verify(
        body: [UInt8] = body, header: String? = signature, now: Int = timestamp
    ) throws(WebhookSignatureError) {
        try WebhookSignature.verify(secret: secret, id: id, timestamp: timestamp, body: body, signatureHeader: header, now: now)
    }

    static func refusal(body: [UInt8] = body, header: String? = signature, now: Int = timestamp) -> WebhookSignatureError.Code? {
        do {
            try verify(body: body, header: header, now: now)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func signsTheKnownVector() {
        #expect(WebhookSignature.sign(secret: Self.secret, id: Self.id, timestamp: Self.timestamp, body: Self.body) == Self.signature)
    }

    @Test func acceptsTheKnownVectorWithinTolerance() throws {
        try Self.verify()
        try Self.verify(now: Self.timestamp + 300)
        try Self.verify(now: Self.timestamp - 300)
    }

    @Test func refusesATamperedBody() {
        var body = Self.body
        body[body.count - 3] ^= 1
        #expect(Self.refusal(body: body) == .badSignature)
    }

    @Test func refusesAStaleOrFutureTimestamp() {
        #expect(Self.refusal(now: Self.timestamp + 301) == .staleTimestamp)
        #expect(Self.refusal(now: Self.timestamp - 301) == .futureTimestamp)
    }

    @Test func acceptsAnyOfSeveralSignatures() throws {
        let other = WebhookSignature.sign(secret: "previous secret", id: Self.id, timestamp: Self.timestamp, body: Self.body)
        try Self.verify(header: "\(other) \(Self.signature)")
        try Self.verify(header: "v2,c2lnbmF0dXJl \(Self.signature)")
        #expect(Self.refusal(header: "\(other) v2,\(Self.signature.dropFirst(3))") == .badSignature)
    }

    @Test(arguments: [
        (String?.none, WebhookSignatureError.Code.missingHeader),
        ("", .missingHeader),
        ("  ", .missingHeader),
        ("xGJ4skGJ/761t2vQEnf9GApUX9rMX2w2RMGysdyv/KY=", .malformedHeader),
        ("v1,not base64!", .malformedHeader),
        ("v1,", .malformedHeader),
        (",xGJ4skGJ/761t2vQEnf9GApUX9rMX2w2RMGysdyv/KY=", .malformedHeader),
    ])
    func refusesAMissingOrMalformedHeader(header: String?, code: WebhookSignatureError.Code) {
        #expect(Self.refusal(header: header) == code)
    }

    @Test func headersCarryTheTriple() throws {
        let outgoing = WebhookHeaders(signing: Self.body, secret: Self.secret, id: Self.id, timestamp: Self.timestamp)
        #expect(outgoing.fields.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(outgoing.fields.map(\.value) == [Self.id, "1767225600", Self.signature])

        let incoming = try WebhookHeaders(id: Self.id, timestamp: "1767225600", signature: Self.signature)
        #expect(incoming == outgoing)
        try incoming.verify(body: Self.body, secret: Self.secret, now: Self.timestamp + 10)
        #expect(throws: WebhookSignatureError.self) { try incoming.verify(body: Self.body, secret: "wrong", now: Self.timestamp) }
    }

    @Test func incomingHeadersMustBePresentAndNumeric() {
        #expect { try WebhookHeaders(id: nil, timestamp: "1", signature: Self.signature) } throws: {
            ($0 as? WebhookSignatureError)?.code == .missingHeader
        }
        #expect { try WebhookHeaders(id: Self.id, timestamp: "soon", signature: Self.signature) } throws: {
            ($0 as? WebhookSignatureError)?.code == .malformedHeader
        }
    }
}
