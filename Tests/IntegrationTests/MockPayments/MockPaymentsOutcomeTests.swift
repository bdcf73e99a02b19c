import CurlHTTP
import Foundation
import MockPayments
import Testing

/// Each outcome, forced by a rate of 1.
@Suite struct MockPaymentsOutcomeTests {
    @Test func declineRateOneDeclinesWithoutCharging() async throws {
        try await withMockProvider(mockConfiguration { $0.declineRate = 1 }) { provider, client in
            let answer = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 20), key: "order-20"))
            #expect(answer.status == .declined)
            #expect(answer.paymentID.hasPrefix("pay_"))
            let stats = provider.stats()
            #expect(stats.declined == 1 && stats.chargesSucceeded == 0)
            #expect(provider.charges(orderID: 20).map(\.status) == [.declined])
        }
    }

    @Test func errorRateOneAnswers5xxAndRecordsNothing() async throws {
        try await withMockProvider(mockConfiguration { $0.errorRate = 1 }) { provider, client in
            let charge = TestCharge(orderID: 21)
            var statuses: [Int] = []
            for _ in 0..<20 {
                // The same key each time: after an error the key is free, so each try is new.
                let response = try await client.charge(charge, key: "order-21")
                statuses.append(response.status)
                #expect(problemType(response)?.hasPrefix("urn:fastest-shop:mock-payments:problem:provider-") == true)
                if let retryAfter = response.header("Retry-After") { #expect(retryAfter == "1") }
            }
            #expect(statuses.allSatisfy { $0 == 500 || $0 == 503 }, "\(statuses)")
            let stats = provider.stats()
            #expect(stats.errors == 20)
            #expect(stats.replays == 0, "an error is never replayed")
            #expect(stats.chargesSucceeded == 0)
            #expect(provider.charges(orderID: 21).isEmpty)
            #expect(try await client.get(client.chargeURL + "/order-21").status == 404)
        }
    }

    @Test func aRetryAfterAnErrorIsANewAttemptThatCanSucceed() async throws {
        try await withMockProvider(mockConfiguration { $0.errorRate = 0.5 }) { provider, client in
            let orders = 40
            var errorAnswers = 0
            for order in 0..<orders {
                let charge = TestCharge(orderID: 100 + order)
                // P(30 errors in a row) = 2^-30 per order.
                var answer: ChargeAnswer?
                for _ in 0..<30 where answer == nil {
                    let response = try await client.charge(charge, key: "retry-\(order)")
                    if response.status >= 500 { errorAnswers += 1 } else { answer = try decode(ChargeAnswer.self, response) }
                }
                #expect(answer?.status == .succeeded, "order \(100 + order)")
            }
            let stats = provider.stats()
            #expect(stats.chargesSucceeded == orders)
            #expect(stats.errors == errorAnswers)
            #expect(stats.doubleChargedKeys == 0 && stats.doubleChargedOrders == 0)
        }
    }

    @Test func timeoutChargesOnceAndARetryGetsTheStoredSuccess() async throws {
        // Held far past the client's 1 s timeout; the provider's shutdown ends the hold.
        let configuration = mockConfiguration {
            $0.timeoutRate = 1
            $0.timeoutHoldMilliseconds = 600_000
        }
        try await withMockProvider(configuration) { provider, client in
            let charge = TestCharge(orderID: 22)
            await #expect(throws: HTTPClientError.self) {
                _ = try await client.charge(charge, key: "order-22", timeoutMilliseconds: 1000)
            }
            // The worker retries with the same key: answered from the ledger, not charged again.
            let retry = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-22"))
            #expect(retry.status == .succeeded)

            let record = try #require(provider.charge(idempotencyKey: "order-22"))
            #expect(record.heldBack)
            #expect(record.paymentID == retry.paymentID)
            #expect(record.succeededCharges == 1)
            let stats = provider.stats()
            #expect(stats.timeouts == 1)
            #expect(stats.chargesSucceeded == 1)
            #expect(stats.replays == 1)
            #expect(stats.doubleChargedKeys == 0 && stats.doubleChargedOrders == 0)
        }
    }

    @Test func theSameSeedGivesTheSameOutcomesWhateverTheOrder() async throws {
        let seed = UInt64.random(in: .min ... .max)
        func outcomes(seed: UInt64, reversed: Bool) async throws -> [String: String] {
            let configuration = mockConfiguration(seed: seed) {
                $0.declineRate = 0.25
                $0.errorRate = 0.25
                $0.pendingRate = 0.25
                $0.callbackDelayMilliseconds = 600_000
            }
            return try await withMockProvider(configuration) { _, client in
                let orders = reversed ? Array((0..<200).reversed()) : Array(0..<200)
                return try await withThrowingTaskGroup(of: (String, String).self) { group in
                    for order in orders {
                        group.addTask {
                            let response = try await client.charge(TestCharge(orderID: order), key: "seeded-\(order)")
                            let outcome =
                                response.status == 200
                                ? try decode(ChargeAnswer.self, response).status.rawValue : "http-\(response.status)"
                            return ("seeded-\(order)", outcome)
                        }
                    }
                    return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
                }
            }
        }
        let first = try await outcomes(seed: seed, reversed: false)
        let replay = try await outcomes(seed: seed, reversed: true)
        let otherSeed = try await outcomes(seed: seed &+ 1, reversed: false)
        #expect(first.count == 200)
        #expect(first == replay, "seed \(seed)")
        // Two seeds agree on one key with probability 0.22 (five outcomes), on all 200 about 10^-132.
        #expect(first != otherSeed, "seed \(seed)")
    }
}
