import CurlHTTP
import Foundation
import Intake
import Postgres
import ShopDomain
import Testing

/// How the payment callback is reached: by its signature alone, with a limit of its own.
@Suite struct PaymentCallbackAccessTests {
    static func send(
        _ server: IntakeTestServer, order: Int, webhookID: String, headers: [(String, String)] = []
    ) async throws -> HTTPResponse {
        let body = Array(#"{"type":"charge.succeeded","order_id":\#(order),"payment_id":"pay_1"}"#.utf8)
        let timestamp = Int(Date().timeIntervalSince1970)
        let signature = WebhookSignature.sign(secret: IntakeTestServer.callbackSecret, id: webhookID, timestamp: timestamp, body: body)
        return try await server.http.execute(
            HTTPRequest(
                method: "POST", url: server.baseURL + "/v1/payments/callback",
                headers: [
                    ("webhook-id", webhookID), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature),
                    ("Content-Type", "application/json"),
                ] + headers,
                body: body))
    }

    /// A provider whose client sends an `Authorization` header of its own (here Basic) is
    /// judged by the signature, not turned away as a bad bearer token.
    @Test func aSignedCallbackWithANonBearerAuthorizationHeaderIsAccepted() async throws {
        try await withIntakeServer { server in
            let ids = try await PaymentCallbackTests.pendingOrder(server)
            let answer = try await Self.send(
                server, order: ids.order, webhookID: "cb_basic", headers: [("Authorization", "Basic cHJvdmlkZXI6c2VjcmV0")])
            #expect(answer.status == 204)
            #expect(try await PaymentCallbackTests.state(server, ids).order == "paid")
            // The API itself still refuses such a header.
            #expect(try await server.call("GET", "/v1/products/1", headers: [("Authorization", "Basic cHJvdmlkZXI6c2VjcmV0")]).status == 401)
        }
    }

    /// The API's per-address limit does not count callbacks, and callbacks have their own.
    @Test func callbacksHaveTheirOwnLimit() async throws {
        let limits = ["limits.ip_per_s": "0.01", "limits.ip_burst": "1", "limits.callback_per_s": "0.01", "limits.callback_burst": "3"]
        try await withIntakeServer(limits) { server in
            let ids = try await PaymentCallbackTests.pendingOrder(server)
            #expect(try await server.call("GET", "/v1/products/999999").status == 404)
            #expect(try await server.call("GET", "/v1/products/999999").status == 429)
            // The address is out of API requests, yet the provider's burst gets through.
            for _ in 0..<3 {
                #expect(try await Self.send(server, order: ids.order, webhookID: "cb_burst").status == 204)
            }
            let limited = try await Self.send(server, order: ids.order, webhookID: "cb_burst")
            #expect(limited.status == 429)
            #expect(limited.problemSlug == "rate-limited")
            #expect(limited.header("Retry-After") != nil)
        }
    }
}
