import CurlHTTP
import Foundation
import MockPayments
import Testing
import Worker

/// The worker's own `PaymentClient` against the mock: both sides read docs/payments.md the same way.
@Suite struct MockPaymentsWorkerContractTests {
    /// `body` gets a payment client with the given timeout (in milliseconds) for each call.
    private func withPaymentClients(
        _ configuration: MockPaymentsConfiguration,
        _ body: (MockPaymentProvider, (Int) -> PaymentClient) async throws -> Void
    ) async throws {
        try await withMockProvider(configuration) { provider, client in
            let http = CurlHTTPClient(name: "worker-contract-test")
            defer { http.shutdown() }
            try await body(provider) { timeoutMilliseconds in
                PaymentClient(
                    configuration: .init(
                        url: client.chargeURL, secret: configuration.secret, timeoutMilliseconds: timeoutMilliseconds,
                        connectTimeoutMilliseconds: 2000),
                    http: http)
            }
        }
    }

    private func withPaymentClient(
        _ configuration: MockPaymentsConfiguration, _ body: (MockPaymentProvider, PaymentClient) async throws -> Void
    ) async throws {
        try await withPaymentClients(configuration) { provider, payments in try await body(provider, payments(30_000)) }
    }

    private func charge(_ orderID: Int) -> PaymentClient.Charge {
        PaymentClient.Charge(
            orderID: orderID, dropID: 3, userID: 9, amountCents: 4500, currency: "EUR", webhookID: "msg_order_\(orderID)")
    }

    @Test func eachOutcomeIsClassifiedAsTheWorkerExpects() async throws {
        try await withPaymentClient(mockConfiguration()) { provider, payments in
            guard case .succeeded(let paymentID, 200) = await payments.charge(charge(1)) else {
                Issue.record("not succeeded")
                return
            }
            #expect(provider.charge(idempotencyKey: "msg_order_1")?.paymentID == paymentID)
        }
        try await withPaymentClient(mockConfiguration { $0.declineRate = 1 }) { _, payments in
            #expect(await payments.charge(charge(2)) == .declined(httpStatus: 200))
        }
        try await withPaymentClient(
            mockConfiguration {
                $0.pendingRate = 1
                $0.callbackDelayMilliseconds = 600_000
            }
        ) { provider, payments in
            let answer = await payments.charge(charge(3))
            #expect(answer == .pending(paymentID: provider.charge(idempotencyKey: "msg_order_3")?.paymentID, httpStatus: 200))
        }
        try await withPaymentClient(mockConfiguration { $0.errorRate = 1 }) { provider, payments in
            var retryAfterSeen = false
            for order in 10..<40 {
                guard case .retryable(let status?, let retryAfter, _) = await payments.charge(charge(order)) else {
                    Issue.record("an error answer is retryable")
                    continue
                }
                #expect(status == 500 || status == 503)
                #expect(retryAfter == nil || retryAfter == 1000)
                retryAfterSeen = retryAfterSeen || retryAfter == 1000
            }
            // Half the errors carry Retry-After: all 30 lacking it has probability 2^-30.
            #expect(retryAfterSeen)
            #expect(provider.stats().chargesSucceeded == 0)
        }
    }

    @Test func aWorkerRetryAfterATimeoutIsNotChargedTwice() async throws {
        let configuration = mockConfiguration {
            $0.timeoutRate = 1
            $0.timeoutHoldMilliseconds = 600_000
        }
        try await withPaymentClients(configuration) { provider, payments in
            guard case .retryable(nil, nil, _) = await payments(1000).charge(charge(50)) else {
                Issue.record("a timed-out charge is retryable")
                return
            }
            guard case .succeeded(let paymentID, _) = await payments(30_000).charge(charge(50)) else {
                Issue.record("the retry gets the stored success")
                return
            }
            #expect(provider.charge(idempotencyKey: "msg_order_50")?.paymentID == paymentID)
            let stats = provider.stats()
            #expect(stats.chargesSucceeded == 1 && stats.doubleChargedKeys == 0 && stats.doubleChargedOrders == 0)
        }
    }
}
