import Foundation
import HTTPTypes
import MockPayments
import ShopDomain
import Testing

/// Pending charges end with a callback signed with the provider's secret, retried until the
/// receiver acknowledges it, and sometimes delivered twice.
@Suite struct MockPaymentsCallbackTests {
    private func pendingConfiguration(
        callbackURL: String, _ adjust: (inout MockPaymentsConfiguration) -> Void = { _ in }
    ) -> MockPaymentsConfiguration {
        mockConfiguration {
            $0.pendingRate = 1
            $0.callbackURL = callbackURL
            $0.callbackDelayMilliseconds = 50
            $0.callbackBackoffMilliseconds = 20
            adjust(&$0)
        }
    }

    private struct CallbackBody: Decodable, Equatable {
        let type: String
        let orderID: Int
        let paymentID: String

        enum CodingKeys: String, CodingKey {
            case type
            case orderID = "order_id"
            case paymentID = "payment_id"
        }
    }

    /// Checks the delivery's Standard Webhooks signature with `secret` and reads its body.
    private func verified(_ delivery: CallbackReceiver.Delivery, secret: String) throws -> CallbackBody {
        let headers = try WebhookHeaders(id: delivery.webhookID, timestamp: delivery.timestamp, signature: delivery.signature)
        try headers.verify(body: delivery.body, secret: secret, now: Int(Date().timeIntervalSince1970))
        return try JSONDecoder().decode(CallbackBody.self, from: Data(delivery.body))
    }

    @Test func aPendingChargeSucceedsThroughASignedCallback() async throws {
        let receiver = CallbackReceiver()
        try await receiver.run { callbackURL in
            let configuration = pendingConfiguration(callbackURL: callbackURL)
            try await withMockProvider(configuration) { provider, client in
                let charge = TestCharge(orderID: 30)
                let answer = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-30"))
                #expect(answer.status == .pending)

                try await eventually("the callback arrived") { provider.stats().callbacksSent == 1 }
                let delivery = try #require(receiver.deliveries.first)
                #expect(receiver.deliveries.count == 1)
                let body = try verified(delivery, secret: configuration.callbackSecret)
                #expect(body == CallbackBody(type: "charge.succeeded", orderID: 30, paymentID: answer.paymentID))
                #expect(throws: WebhookSignatureError.self, "signed with the provider's secret, not ours") {
                    try verified(delivery, secret: configuration.secret)
                }

                let record = try #require(provider.charge(idempotencyKey: "order-30"))
                #expect(record.answer == .pending && record.status == .succeeded && record.succeededCharges == 1)
                #expect(provider.stats().chargesSucceeded == 1)
                // A repeat still gets the answer it got first.
                #expect(try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-30")) == answer)
                #expect(provider.stats().chargesSucceeded == 1)
            }
        }
    }

    @Test func aPendingChargeCanFailThroughItsCallback() async throws {
        let receiver = CallbackReceiver()
        try await receiver.run { callbackURL in
            let configuration = pendingConfiguration(callbackURL: callbackURL) { $0.pendingSuccessRate = 0 }
            try await withMockProvider(configuration) { provider, client in
                let answer = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 31), key: "order-31"))
                try await eventually("the callback arrived") { provider.stats().callbacksSent == 1 }
                let body = try verified(try #require(receiver.deliveries.first), secret: configuration.callbackSecret)
                #expect(body == CallbackBody(type: "charge.failed", orderID: 31, paymentID: answer.paymentID))
                #expect(provider.charge(idempotencyKey: "order-31")?.status == .failed)
                #expect(provider.stats().chargesSucceeded == 0)
            }
        }
    }

    @Test func aDuplicateCallbackIsTheSameDeliveryTwice() async throws {
        let receiver = CallbackReceiver()
        try await receiver.run { callbackURL in
            let configuration = pendingConfiguration(callbackURL: callbackURL) { $0.duplicateCallbackRate = 1 }
            try await withMockProvider(configuration) { provider, client in
                let answer = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 32), key: "order-32"))
                try await eventually("both deliveries arrived") { provider.stats().callbacksSent == 2 }
                let deliveries = receiver.deliveries
                #expect(deliveries.count == 2)
                #expect(deliveries[0].webhookID != nil && deliveries[0].webhookID == deliveries[1].webhookID)
                #expect(deliveries[0].body == deliveries[1].body)
                for delivery in deliveries {
                    let body = try verified(delivery, secret: configuration.callbackSecret)
                    #expect(body.paymentID == answer.paymentID)
                }
                #expect(provider.stats().chargesSucceeded == 1, "two deliveries, one charge")
            }
        }
    }

    @Test func aRefusedCallbackIsRetriedWithTheSameWebhookID() async throws {
        let receiver = CallbackReceiver { number in number == 1 ? .serviceUnavailable : .noContent }
        try await receiver.run { callbackURL in
            let configuration = pendingConfiguration(callbackURL: callbackURL)
            try await withMockProvider(configuration) { provider, client in
                _ = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 33), key: "order-33"))
                try await eventually("the second attempt was acknowledged") { provider.stats().callbacksSent == 1 }
                let deliveries = receiver.deliveries
                #expect(deliveries.count == 2)
                #expect(deliveries[0].webhookID == deliveries[1].webhookID)
                for delivery in deliveries { _ = try verified(delivery, secret: configuration.callbackSecret) }
                #expect(provider.stats().callbacksFailed == 0)
            }
        }
    }

    @Test func aCallbackIsGivenUpAfterItsLastAttempt() async throws {
        let receiver = CallbackReceiver { _ in .internalServerError }
        try await receiver.run { callbackURL in
            let configuration = pendingConfiguration(callbackURL: callbackURL) { $0.callbackAttempts = 3 }
            try await withMockProvider(configuration) { provider, client in
                _ = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 34), key: "order-34"))
                try await eventually("the callback was given up") { provider.stats().callbacksFailed == 1 }
                #expect(receiver.deliveries.count == 3)
                #expect(Set(receiver.deliveries.map(\.webhookID)).count == 1)
                #expect(provider.stats().callbacksSent == 0)
            }
        }
    }

    @Test func anUnreachableReceiverIsRetriedThenGivenUp() async throws {
        // Port 1 refuses connections: a connection error is retried like a refusal.
        let configuration = pendingConfiguration(callbackURL: "http://127.0.0.1:1/callback") { $0.callbackAttempts = 2 }
        try await withMockProvider(configuration) { provider, client in
            _ = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 35), key: "order-35"))
            try await eventually("the callback was given up") { provider.stats().callbacksFailed == 1 }
            #expect(provider.stats().callbacksSent == 0)
        }
    }
}
