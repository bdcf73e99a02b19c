import CurlHTTP
import Foundation
import MockPayments
import Testing

/// Mixed rates over many charges: each outcome's count is Binomial(n, rate), so it must lie
/// within 5 standard deviations of n·rate. With a fresh random seed each run (printed on
/// failure), a correct provider fails one such check with probability about 6·10⁻⁷, and the
/// seven of them together about 4·10⁻⁶.
@Suite struct MockPaymentsStatisticsTests {
    private static func withinFiveSigma(_ count: Int, of trials: Int, rate: Double) -> Bool {
        let mean = Double(trials) * rate
        let sigma = (Double(trials) * rate * (1 - rate)).squareRoot()
        return abs(Double(count) - mean) <= 5 * sigma
    }

    @Test func mixedRatesLandWithinFiveSigma() async throws {
        let seed = UInt64.random(in: .min ... .max)
        let configuration = mockConfiguration(seed: seed) {
            $0.declineRate = 0.10
            $0.errorRate = 0.10
            $0.timeoutRate = 0.05
            $0.pendingRate = 0.15
            // Held back a moment (counted as a timeout) but short enough to read the answer.
            $0.timeoutHoldMilliseconds = 1
            // Pending charges stay pending for the whole test.
            $0.callbackDelayMilliseconds = 600_000
            $0.latencyMilliseconds = 2
            $0.latencyJitterMilliseconds = 2
        }
        let trials = 2000
        try await withMockProvider(configuration) { provider, client in
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                var answers: [String] = []
                for order in 0..<trials {
                    // At most 100 in flight.
                    if order >= 100, let answer = try await group.next() { answers.append(answer) }
                    group.addTask {
                        let response = try await client.charge(TestCharge(orderID: order), key: "mixed-\(order)")
                        guard response.status == 200 else {
                            return "http-\(response.status)" + (response.header("Retry-After") == nil ? "" : "-retry-after")
                        }
                        return try decode(ChargeAnswer.self, response).status.rawValue
                    }
                }
                for try await answer in group { answers.append(answer) }
                return answers
            }
            func count(_ predicate: (String) -> Bool) -> Int { answers.filter(predicate).count }
            let stats = provider.stats()
            let context = "seed \(seed), stats \(stats)"

            // The answers agree with the counters exactly.
            #expect(stats.requests == trials)
            #expect(count { $0 == "declined" } == stats.declined, "\(context)")
            #expect(count { $0.hasPrefix("http-5") } == stats.errors, "\(context)")
            #expect(count { $0 == "pending" } == stats.pending, "\(context)")
            #expect(count { $0 == "succeeded" } == stats.chargesSucceeded, "\(context)")
            #expect(count { $0.hasPrefix("http-") && !$0.hasPrefix("http-5") } == 0, "\(context)")
            #expect(stats.doubleChargedKeys == 0 && stats.doubleChargedOrders == 0)

            // And each count is where the rates put it.
            #expect(Self.withinFiveSigma(stats.declined, of: trials, rate: 0.10), "\(context)")
            #expect(Self.withinFiveSigma(stats.errors, of: trials, rate: 0.10), "\(context)")
            #expect(Self.withinFiveSigma(stats.timeouts, of: trials, rate: 0.05), "\(context)")
            #expect(Self.withinFiveSigma(stats.pending, of: trials, rate: 0.15), "\(context)")
            #expect(Self.withinFiveSigma(stats.chargesSucceeded - stats.timeouts, of: trials, rate: 0.60), "\(context)")
            // Errors split evenly between 500 and 503, and half carry Retry-After.
            #expect(Self.withinFiveSigma(count { $0.hasPrefix("http-500") }, of: stats.errors, rate: 0.5), "\(context)")
            #expect(Self.withinFiveSigma(count { $0.hasSuffix("-retry-after") }, of: stats.errors, rate: 0.5), "\(context)")
        }
    }
}
