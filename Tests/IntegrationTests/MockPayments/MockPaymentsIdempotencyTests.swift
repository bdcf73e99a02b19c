import CurlHTTP
import Foundation
import MockPayments
import Testing

/// One Idempotency-Key, one charge: repeats get the stored answer, concurrent repeats wait for
/// the first, and the counters catch any double charge per key or per order.
@Suite struct MockPaymentsIdempotencyTests {
    @Test func aRepeatedKeyGetsTheSameAnswerAndChargesOnce() async throws {
        try await withMockProvider(mockConfiguration()) { provider, client in
            let charge = TestCharge(orderID: 10)
            let first = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-10"))
            for _ in 0..<3 {
                let again = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-10"))
                #expect(again == first)
            }
            let stats = provider.stats()
            #expect(stats.requests == 4)
            #expect(stats.chargesSucceeded == 1)
            #expect(stats.replays == 3)
            #expect(stats.doubleChargedKeys == 0 && stats.doubleChargedOrders == 0)
            #expect(provider.charge(idempotencyKey: "order-10")?.succeededCharges == 1)
        }
    }

    @Test func aRepeatedDeclineIsTheSameDecline() async throws {
        try await withMockProvider(mockConfiguration { $0.declineRate = 1 }) { provider, client in
            let charge = TestCharge(orderID: 11)
            let first = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-11"))
            let again = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-11"))
            #expect(first.status == .declined)
            #expect(again == first)
            #expect(provider.stats().declined == 1)
            #expect(provider.stats().chargesSucceeded == 0)
        }
    }

    @Test func concurrentDuplicatesOfOneKeyChargeOnce() async throws {
        // The latency keeps the first request in flight while the others arrive.
        let configuration = mockConfiguration { $0.latencyMilliseconds = 100 }
        try await withMockProvider(configuration) { provider, client in
            let charge = TestCharge(orderID: 12)
            let duplicates = 50
            let answers = try await withThrowingTaskGroup(of: ChargeAnswer.self) { group in
                for _ in 0..<duplicates {
                    group.addTask { try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-12")) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == duplicates)
            #expect(Set(answers.map(\.paymentID)).count == 1, "every duplicate got the one payment")
            #expect(answers.allSatisfy { $0.status == .succeeded })
            let stats = provider.stats()
            #expect(stats.chargesSucceeded == 1)
            #expect(stats.replays == duplicates - 1)
            #expect(stats.doubleChargedKeys == 0)
            #expect(try await client.charges(orderID: 12).count == 1)
        }
    }

    @Test func aKeyReusedForAnotherChargeIsRefusedWith422() async throws {
        try await withMockProvider(mockConfiguration()) { provider, client in
            _ = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 13), key: "shared-key"))
            let otherOrder = try await client.charge(TestCharge(orderID: 14), key: "shared-key")
            let otherAmount = try await client.charge(TestCharge(orderID: 13, amountCents: 5), key: "shared-key")
            for response in [otherOrder, otherAmount] {
                #expect(response.status == 422, "\(response.bodyText)")
                #expect(problemType(response) == "urn:fastest-shop:mock-payments:problem:idempotency-key-reused")
            }
            let stats = provider.stats()
            #expect(stats.conflicts == 2)
            #expect(stats.chargesSucceeded == 1)
            #expect(try await client.charges(orderID: 14).isEmpty)
        }
    }

    @Test func twoKeysForOneOrderShowAsADoubleChargedOrder() async throws {
        try await withMockProvider(mockConfiguration()) { provider, client in
            // A buggy worker: a fresh key on its retry instead of the stable one.
            let charge = TestCharge(orderID: 15)
            let first = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-15-attempt-1"))
            let second = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-15-attempt-2"))
            #expect(first.status == .succeeded && second.status == .succeeded)
            #expect(first.paymentID != second.paymentID)
            // A well-behaved order beside it stays out of the count.
            _ = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 16), key: "order-16"))

            let stats = try await client.stats()
            #expect(stats.doubleChargedOrders == 1)
            #expect(stats.doubleChargedKeys == 0)
            #expect(stats.chargesSucceeded == 3)
            let records = try await client.charges(orderID: 15)
            #expect(records.map(\.idempotencyKey) == ["order-15-attempt-1", "order-15-attempt-2"])
            #expect(records.allSatisfy { $0.succeededCharges == 1 })
        }
    }

    @Test func resetForgetsChargesAndCounters() async throws {
        try await withMockProvider(mockConfiguration()) { provider, client in
            let charge = TestCharge(orderID: 17)
            let before = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-17"))
            #expect(try await client.reset().status == 204)
            #expect(try await client.stats() == MockPaymentsStats())
            #expect(try await client.get(client.chargeURL + "/order-17").status == 404)

            let after = try decode(ChargeAnswer.self, try await client.charge(charge, key: "order-17"))
            #expect(after.paymentID != before.paymentID, "after a reset the key is new")
            #expect(provider.stats().chargesSucceeded == 1)
            #expect(provider.stats().replays == 0)
        }
    }

    @Test func aChargeIsReadableByItsKey() async throws {
        try await withMockProvider(mockConfiguration()) { _, client in
            let key = "order 18/a+b%c"
            let answer = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 18), key: key))
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let response = try await client.get(client.chargeURL + "/" + encoded)
            struct List: Decodable { let charges: [ChargeRecord] }
            let records = try decode(List.self, response).charges
            #expect(records.map(\.paymentID) == [answer.paymentID])
            #expect(records.map(\.idempotencyKey) == [key])
        }
    }
}
