import CurlHTTP
import Foundation
import MockPayments
import Testing

/// `fastest-shop mock-payments` as a real process.
@Suite struct MockPaymentsCommandTests {
    private let secrets = [
        "FASTEST_SHOP_PAYMENTS_SECRET": "cli-charge-secret-0123456789abcdef",
        "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET": "cli-callback-secret-0123456789abcdef",
    ]

    @Test func startsOnAFreePortPrintsItsURLAnswersAndStopsOnSIGTERM() async throws {
        let process = try ShopProcess(["mock-payments", "--port", "0", "--seed", "7"], environment: secrets)
        var baseURL: String?
        try await eventually("it printed its URL; log: \(process.output)") {
            baseURL = process.output.split(separator: "\n")
                .first { $0.hasPrefix("mock-payments: listening on http://127.0.0.1:") }
                .map { String($0.dropFirst("mock-payments: listening on ".count)) }
            return baseURL != nil
        }
        let url = try #require(baseURL)
        #expect(!url.hasSuffix(":0"))

        let client = ChargeClient(baseURL: url, chargePath: "/v1/charges", secret: "cli-charge-secret-0123456789abcdef")
        defer { client.shutdown() }
        let answer = try decode(ChargeAnswer.self, try await client.charge(TestCharge(orderID: 1), key: "cli-1"))
        #expect(answer.status == .succeeded)
        let forged = ChargeClient(baseURL: url, chargePath: "/v1/charges", secret: "cli-callback-secret-0123456789abcdef")
        defer { forged.shutdown() }
        #expect(try await forged.charge(TestCharge(orderID: 2), key: "cli-2").status == 401)
        let stats = try await client.stats()
        #expect(stats.requests == 2 && stats.chargesSucceeded == 1 && stats.badSignatures == 1)

        #expect(try await process.terminate() == 0, "log: \(process.output)")
    }

    @Test(arguments: [
        (["--decline-rate", "1.5"], "--decline-rate"),
        (["--pending-rate", "0.6", "--timeout-rate", "0.5"], "must not sum above 1"),
        (["--callback-attempts", "0"], "--callback-attempts"),
        (["--latency-ms=-5"], "--latency-ms"),
    ])
    func badFlagsStopStartUpWithOneLine(flags: [String], named: String) async throws {
        let process = try ShopProcess(["mock-payments", "--port", "0"] + flags, environment: secrets)
        let status = try await process.waitForExit(timeout: 30)
        let output = process.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status != 0)
        #expect(output.split(separator: "\n").count == 1, "one line: \(output)")
        #expect(output.contains(named), "\(output)")
    }

    @Test(arguments: ["FASTEST_SHOP_PAYMENTS_SECRET", "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET"])
    func aMissingSecretStopsStartUpNamingIt(variable: String) async throws {
        var environment = secrets
        environment[variable] = nil
        let process = try ShopProcess(["mock-payments", "--port", "0"], environment: environment)
        let status = try await process.waitForExit(timeout: 30)
        let output = process.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(status == 2)
        #expect(output.split(separator: "\n").count == 1, "one line: \(output)")
        #expect(output.contains(variable), "\(output)")
    }
}
