import CurlHTTP
import Foundation
import Intake
import Postgres
import Settings
import ShopDomain
import Testing

@Suite struct AuthenticationTests {
    @Test func missingTokenIs401WithChallenge() async throws {
        try await withIntakeServer { server in
            let response = try await server.call("POST", "/v1/products", body: #"{"name":"x","price_cents":1,"currency":"EUR"}"#)
            #expect(response.status == 401)
            #expect(response.problemSlug == "unauthorized")
            #expect(response.header("WWW-Authenticate") == "Bearer")
        }
    }

    @Test func expiredTokenIsRefused() async throws {
        try await withIntakeServer { server in
            let user = try await server.makeUser(role: .operator)
            let expired = try await server.service.tokens.issue(
                for: AuthenticatedUser(id: user.id, role: .operator), now: Date().addingTimeInterval(-2 * 86_400))
            let response = try await server.call("GET", "/v1/orders/1", token: expired)
            #expect(response.status == 401)
            #expect(response.problemSlug == "unauthorized")
        }
    }

    @Test func forgedTokensAreRefused() async throws {
        try await withIntakeServer { server in
            let user = try await server.makeUser(role: .customer)
            let otherKey = await AccessTokens(secret: "another-secret-of-at-least-32-bytes!!", lifetimeSeconds: 600)
            let forged = try await otherKey.issue(for: AuthenticatedUser(id: user.id, role: .operator))
            #expect(try await server.call("GET", "/v1/orders/1", token: forged).status == 401)

            // The genuine token with its role claim swapped keeps its signature, which no longer matches.
            let parts = user.token.split(separator: ".").map(String.init)
            var payload = try #require(Data(base64URL: parts[1]))
            payload = Data(String(decoding: payload, as: UTF8.self).replacingOccurrences(of: "customer", with: "operator").utf8)
            let tampered = [parts[0], payload.base64URL, parts[2]].joined(separator: ".")
            #expect(try await server.call("GET", "/v1/drops", token: tampered).status == 401)

            // No algorithm at all.
            let unsigned = ["eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", payload.base64URL, ""].joined(separator: ".")
            #expect(try await server.call("GET", "/v1/drops", token: unsigned).status == 401)
            #expect(try await server.call("GET", "/v1/drops", token: "garbage").status == 401)
            #expect(try await server.call("GET", "/v1/drops", headers: [("Authorization", "Basic abc")]).status == 401)
        }
    }

    @Test func wrongRoleIsForbidden() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeUser(role: .customer)
            // Listing drops that are not open or scheduled is the operators' view.
            let response = try await server.call("GET", "/v1/drops?status=closing", token: customer.token)
            #expect(response.status == 403)
            #expect(response.problemSlug == "forbidden")

            let drop = try await server.makeDrop()
            let operatorUser = try await server.makeUser(role: .operator)
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: operatorUser.token).status == 403)
        }
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
