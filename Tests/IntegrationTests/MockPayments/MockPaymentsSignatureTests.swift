import CurlHTTP
import Foundation
import MockPayments
import Testing

/// Charges must carry our Standard Webhooks signature; anything else is refused before it can
/// charge.
@Suite struct MockPaymentsSignatureTests {
    @Test func aCorrectlySignedChargeSucceedsAndIsRecorded() async throws {
        try await withMockProvider(mockConfiguration()) { provider, client in
            let response = try await client.charge(TestCharge(orderID: 1), key: "order-1")
            let answer = try decode(ChargeAnswer.self, response)
            #expect(answer.status == .succeeded)
            #expect(answer.paymentID.hasPrefix("pay_"))

            let records = try await client.charges(orderID: 1)
            #expect(records.count == 1)
            let record = try #require(records.first)
            #expect(record.idempotencyKey == "order-1")
            #expect(record.paymentID == answer.paymentID)
            #expect(record.status == .succeeded)
            #expect(record.succeededCharges == 1)
            #expect(record.amountCents == 1999 && record.currency == "EUR" && record.dropID == 7 && record.userID == 42)

            let stats = try await client.stats()
            #expect(stats.requests == 1 && stats.chargesSucceeded == 1 && stats.badSignatures == 0)
            #expect(stats == provider.stats(), "the HTTP and in-process views agree")
        }
    }

    @Test func badSignaturesAreRefusedWith401AndChargeNothing() async throws {
        try await withMockProvider(mockConfiguration()) { _, client in
            let charge = TestCharge(orderID: 2)
            let now = Int(Date().timeIntervalSince1970)
            var tamperedBody = client.request(charge, key: "k-tampered")
            tamperedBody.body = TestCharge(orderID: 2, amountCents: 1).body
            var missingSignature = client.request(charge, key: "k-no-signature")
            missingSignature.headers.removeAll { $0.name == "webhook-signature" }
            var missingID = client.request(charge, key: "k-no-id")
            missingID.headers.removeAll { $0.name == "webhook-id" }
            var missingTimestamp = client.request(charge, key: "k-no-timestamp")
            missingTimestamp.headers.removeAll { $0.name == "webhook-timestamp" }
            var notBase64 = client.request(charge, key: "k-garbled")
            notBase64.headers.removeAll { $0.name == "webhook-signature" }
            notBase64.headers.append(("webhook-signature", "v1,not base64!"))

            let refused: [(String, CurlHTTP.HTTPRequest)] = [
                ("forged with another secret", client.request(charge, key: "k-forged", signingSecret: "not-the-secret")),
                ("stale timestamp", client.request(charge, key: "k-stale", timestamp: now - 301)),
                // Far enough ahead that a slow, loaded test run cannot catch up with it.
                ("timestamp from the future", client.request(charge, key: "k-future", timestamp: now + 3600)),
                ("body changed after signing", tamperedBody),
                ("no webhook-signature", missingSignature),
                ("no webhook-id", missingID),
                ("no webhook-timestamp", missingTimestamp),
                ("garbled webhook-signature", notBase64),
            ]
            for (what, request) in refused {
                let response = try await client.send(request)
                #expect(response.status == 401, "\(what): \(response.bodyText)")
                #expect(problemType(response) == "urn:fastest-shop:mock-payments:problem:bad-signature", "\(what)")
            }

            let stats = try await client.stats()
            #expect(stats.badSignatures == refused.count)
            #expect(stats.requests == refused.count)
            #expect(stats.chargesSucceeded == 0 && stats.declined == 0 && stats.pending == 0)
            #expect(try await client.charges(orderID: 2).isEmpty)
        }
    }

    @Test func aTimestampJustInsideTheToleranceIsAccepted() async throws {
        try await withMockProvider(mockConfiguration()) { _, client in
            let now = Int(Date().timeIntervalSince1970)
            let response = try await client.send(client.request(TestCharge(orderID: 3), key: "k-old", timestamp: now - 280))
            #expect(try decode(ChargeAnswer.self, response).status == .succeeded)
        }
    }

    @Test func aMissingIdempotencyKeyOrAMalformedBodyIs400AndChargesNothing() async throws {
        try await withMockProvider(mockConfiguration()) { _, client in
            let noKey = try await client.send(client.request(TestCharge(orderID: 4), key: nil))
            #expect(noKey.status == 400, "\(noKey.bodyText)")
            #expect(problemType(noKey) == "urn:fastest-shop:mock-payments:problem:invalid-request")

            let malformed: [String] = [
                #"{"type":"charge.requested","order_id":"4","drop_id":7,"user_id":42,"amount_cents":1999,"currency":"EUR"}"#,
                #"{"type":"charge.requested","order_id":4,"drop_id":7,"user_id":42,"amount_cents":19.99,"currency":"EUR"}"#,
                #"{"type":"charge.requested","order_id":4,"drop_id":7,"user_id":42,"currency":"EUR"}"#,
                #"{"type":"charge.refunded","order_id":4,"drop_id":7,"user_id":42,"amount_cents":1999,"currency":"EUR"}"#,
                #"{"type":"charge.requested","order_id":4,"drop_id":7,"user_id":42,"amount_cents":0,"currency":"EUR"}"#,
                "not json",
            ]
            for (index, text) in malformed.enumerated() {
                // Correctly signed, so that the body itself is what gets refused.
                let response = try await client.send(
                    client.request(TestCharge(orderID: 4), key: "k-malformed-\(index)", body: Array(text.utf8)))
                #expect(response.status == 400, "\(text): \(response.status) \(response.bodyText)")
            }

            let stats = try await client.stats()
            #expect(stats.invalidRequests == malformed.count + 1)
            #expect(stats.badSignatures == 0 && stats.chargesSucceeded == 0)
        }
    }
}
