import CurlHTTP
import Foundation
import Logging
import MockPayments
import ServiceLifecycle
import ShopDomain

/// A configuration for one test: fresh secrets, a free port, every charge succeeding unless the
/// test says otherwise.
func mockConfiguration(
    seed: UInt64 = .random(in: .min ... .max), _ adjust: (inout MockPaymentsConfiguration) -> Void = { _ in }
) -> MockPaymentsConfiguration {
    var configuration = MockPaymentsConfiguration(
        port: 0,
        secret: "charge-secret-" + UUID().uuidString,
        callbackSecret: "callback-secret-" + UUID().uuidString,
        // Nobody listens here; tests of callbacks start a receiver.
        callbackURL: "http://127.0.0.1:1/unused",
        seed: seed)
    adjust(&configuration)
    return configuration
}

let quietLogger = Logger(label: "mock-payments-test") { _ in SwiftLogNoOpLogHandler() }

/// Runs a provider on a free port for the duration of `body`, then stops it gracefully.
func withMockProvider<T: Sendable>(
    _ configuration: MockPaymentsConfiguration,
    _ body: (MockPaymentProvider, ChargeClient) async throws -> T
) async throws -> T {
    let provider = try MockPaymentProvider(configuration: configuration, logger: quietLogger)
    return try await withServiceGroup([provider]) {
        let port = try await provider.waitUntilListening()
        let client = ChargeClient(
            baseURL: "http://127.0.0.1:\(port)", chargePath: configuration.chargePath, secret: configuration.secret)
        defer { client.shutdown() }
        return try await body(provider, client)
    }
}

/// Runs `services` while `body` runs, then shuts them down gracefully and waits for them.
func withServiceGroup<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services, logger: quietLogger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try result.get()
    }
}

/// A charge as our worker sends it (docs/payments.md, "Charges").
struct TestCharge: Sendable {
    var orderID: Int
    var dropID = 7
    var userID = 42
    var amountCents = 1999
    var currency = "EUR"

    var body: [UInt8] {
        Array(
            """
            {"type":"charge.requested","order_id":\(orderID),"drop_id":\(dropID),"user_id":\(userID),\
            "amount_cents":\(amountCents),"currency":"\(currency)"}
            """.utf8)
    }
}

/// Talks to a provider over real HTTP (libcurl), signing charges the way the worker does.
final class ChargeClient: Sendable {
    let baseURL: String
    let chargeURL: String
    let secret: String
    private let http = CurlHTTPClient(name: "mock-payments-test-client")

    init(baseURL: String, chargePath: String, secret: String) {
        self.baseURL = baseURL
        chargeURL = baseURL + chargePath
        self.secret = secret
    }

    func shutdown() { http.shutdown() }

    /// A signed charge request; `signingSecret`, `timestamp`, `key` and `body` (instead of the
    /// charge's) let tests get them wrong.
    func request(
        _ charge: TestCharge, key: String?, signingSecret: String? = nil,
        timestamp: Int = Int(Date().timeIntervalSince1970), body: [UInt8]? = nil, timeoutMilliseconds: Int = 30_000
    ) -> CurlHTTP.HTTPRequest {
        let body = body ?? charge.body
        let webhook = WebhookHeaders(
            signing: body, secret: signingSecret ?? secret, id: "msg_order_\(charge.orderID)", timestamp: timestamp)
        var headers = [("Content-Type", "application/json")] + webhook.fields
        if let key { headers.append(("Idempotency-Key", key)) }
        return HTTPRequest(
            method: "POST", url: chargeURL, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds)
    }

    func send(_ request: CurlHTTP.HTTPRequest) async throws -> CurlHTTP.HTTPResponse {
        try await http.execute(request)
    }

    /// A correctly signed charge.
    func charge(_ charge: TestCharge, key: String, timeoutMilliseconds: Int = 30_000) async throws -> CurlHTTP.HTTPResponse {
        try await send(request(charge, key: key, timeoutMilliseconds: timeoutMilliseconds))
    }

    func stats() async throws -> MockPaymentsStats {
        try decode(MockPaymentsStats.self, try await get(baseURL + "/v1/stats"))
    }

    func charges(orderID: Int) async throws -> [ChargeRecord] {
        try decode(ChargeList.self, try await get(chargeURL + "?order_id=\(orderID)")).charges
    }

    func get(_ url: String) async throws -> CurlHTTP.HTTPResponse {
        try await http.execute(HTTPRequest(url: url))
    }

    func reset() async throws -> CurlHTTP.HTTPResponse {
        try await http.execute(HTTPRequest(method: "POST", url: baseURL + "/v1/reset"))
    }

    private struct ChargeList: Decodable {
        let charges: [ChargeRecord]
    }
}

struct UnexpectedResponse: Error, CustomStringConvertible {
    let description: String
}

/// The JSON body of a response, or an error naming the status and body.
func decode<T: Decodable>(_ type: T.Type, _ response: CurlHTTP.HTTPResponse) throws -> T {
    guard (200..<300).contains(response.status) else {
        throw UnexpectedResponse(description: "HTTP \(response.status): \(response.bodyText)")
    }
    return try JSONDecoder().decode(type, from: Data(response.body))
}

/// The `type` of a problem document.
func problemType(_ response: CurlHTTP.HTTPResponse) -> String? {
    guard response.header("Content-Type") == "application/problem+json",
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
    else { return nil }
    return object["type"] as? String
}
