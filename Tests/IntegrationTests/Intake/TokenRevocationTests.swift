import CurlHTTP
import Foundation
import Intake
import Postgres
import ShopDomain
import Storage
import Testing

/// Tokens stop working when their account is disabled, demoted or deleted: at once for a token
/// not yet seen, and for a cached one once its check ages past `auth.token_recheck_s` (60 s in
/// production; 1 s here so the suite stays short).
@Suite struct TokenRevocationTests {
    static let settings = ["auth.token_recheck_s": "1"]

    /// Calls until the answer is 401 or 30 s have passed; every answer before must be `allowed`.
    static func untilUnauthorized(
        _ server: IntakeTestServer, _ method: String, _ path: String, token: String, allowed: Set<Int>
    ) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let status = try await server.call(method, path, token: token).status
            if status == 401 || ContinuousClock.now > deadline { return status }
            #expect(allowed.contains(status), "status \(status) before the token stopped working")
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func aDisabledAccountLosesAccessAndCannotLogIn() async throws {
        try await withIntakeServer(Self.settings) { server in
            #expect(try await server.call("POST", "/v1/auth/signup", body: #"{"email":"gone@example.com","password":"password1"}"#).status == 201)
            let login = try await server.call("POST", "/v1/auth/login", body: #"{"email":"gone@example.com","password":"password1"}"#)
            let token = try #require(login.json["access_token"] as? String)
            #expect(try await server.call("GET", "/v1/me/entries", token: token).status == 200)

            let id = try await UserStore(pool: server.pool).disable(email: EmailAddress("gone@example.com")!)
            let userID = try #require(id)
            // A token never seen before is checked at once.
            let fresh = try await server.service.tokens.issue(for: AuthenticatedUser(id: userID, role: .customer))
            #expect(try await server.call("GET", "/v1/me/entries", token: fresh).status == 401)
            // The cached one stops when its check ages.
            #expect(try await Self.untilUnauthorized(server, "GET", "/v1/me/entries", token: token, allowed: [200]) == 401)
            // Same answer as a wrong password.
            let again = try await server.call("POST", "/v1/auth/login", body: #"{"email":"gone@example.com","password":"password1"}"#)
            #expect(again.status == 401)
        }
    }

    @Test func aDemotedOperatorLosesTheOperatorTokenAndLogsInAsCustomer() async throws {
        try await withIntakeServer(Self.settings) { server in
            let hash = try await server.service.passwords.hash("password1")
            _ = try await UserStore(pool: server.pool).create(email: EmailAddress("ops@example.com")!, passwordHash: hash, role: .operator)
            let login = try await server.call("POST", "/v1/auth/login", body: #"{"email":"ops@example.com","password":"password1"}"#)
            let token = try #require(login.json["access_token"] as? String)
            #expect(try await server.call("GET", "/v1/drops?status=closing", token: token).status == 200)

            _ = try await UserStore(pool: server.pool).setRole(email: EmailAddress("ops@example.com")!, role: .customer)
            #expect(try await Self.untilUnauthorized(server, "GET", "/v1/drops?status=closing", token: token, allowed: [200]) == 401)
            let relogin = try await server.call("POST", "/v1/auth/login", body: #"{"email":"ops@example.com","password":"password1"}"#)
            let customerToken = try #require(relogin.json["access_token"] as? String)
            #expect(try await server.call("GET", "/v1/drops?status=closing", token: customerToken).status == 403)
            #expect(try await server.call("GET", "/v1/me/entries", token: customerToken).status == 200)
        }
    }

    @Test func aDeletedAccountsTokenIs401Never500() async throws {
        try await withIntakeServer(Self.settings) { server in
            let drop = try await server.makeDrop(kind: .openRun, closesAt: nil)
            let cached = try await server.makeUser()
            let unseen = try await server.makeUser()
            #expect(try await server.call("GET", "/v1/me/orders", token: cached.token).status == 200)
            _ = try await server.pool.query("DELETE FROM users WHERE id = ANY($1::bigint[])", [.textArray([String(cached.id), String(unseen.id)])])
            let purchase = try await server.call("POST", "/v1/drops/\(drop.id)/purchase", token: unseen.token)
            #expect(purchase.status == 401)
            #expect(try await Self.untilUnauthorized(server, "GET", "/v1/me/orders", token: cached.token, allowed: [200]) == 401)
        }
    }

    @Test func tokensLongerLivedThanTheSettingAreRefused() async throws {
        try await withIntakeServer(["auth.token_ttl_s": "600"]) { server in
            let user = try await server.makeUser()
            let longLived = await AccessTokens(secret: IntakeTestServer.jwtSecret, lifetimeSeconds: 86_400)
            let token = try await longLived.issue(for: AuthenticatedUser(id: user.id, role: .customer))
            #expect(try await server.call("GET", "/v1/me/orders", token: token).status == 401)
            #expect(try await server.call("GET", "/v1/me/orders", token: user.token).status == 200)
        }
    }
}
