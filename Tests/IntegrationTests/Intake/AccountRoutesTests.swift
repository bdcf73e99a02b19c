import CurlHTTP
import Foundation
import Intake
import Postgres
import Settings
import ShopDomain
import Testing

@Suite struct AccountRoutesTests {
    @Test func signupThenLoginIssuesAWorkingToken() async throws {
        try await withIntakeServer { server in
            let signup = try await server.call("POST", "/v1/auth/signup", body: #"{"email":" Ann@Example.COM ","password":"correct horse"}"#)
            #expect(signup.status == 201)
            let userID = try #require(signup.json["user_id"] as? Int)

            let login = try await server.call("POST", "/v1/auth/login", body: #"{"email":"ann@example.com","password":"correct horse"}"#)
            #expect(login.status == 200)
            #expect(login.json["token_type"] as? String == "Bearer")
            #expect(login.json["expires_in"] as? Int == server.service.settings.auth.tokenTTLSeconds)
            let token = try #require(login.json["access_token"] as? String)
            #expect(try await server.service.tokens.verify(token) == AuthenticatedUser(id: userID, role: .customer))
        }
    }

    @Test func emailIsUniqueWhateverItsCase() async throws {
        try await withIntakeServer { server in
            #expect(try await server.call("POST", "/v1/auth/signup", body: #"{"email":"bob@example.com","password":"password1"}"#).status == 201)
            let again = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"BOB@example.com","password":"password2"}"#)
            #expect(again.status == 409)
            #expect(again.problemSlug == "email-taken")
            #expect(again.header("Content-Type") == "application/problem+json")
        }
    }

    @Test func invalidSignupNamesEveryField() async throws {
        try await withIntakeServer { server in
            let response = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"not-an-email","password":"short"}"#)
            #expect(response.status == 400)
            #expect(response.problemSlug == "invalid-request")
            let fields = (response.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
            #expect(fields == ["email", "password"])

            let missing = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"a@b.co"}"#)
            #expect(missing.status == 400)
            #expect((missing.json["errors"] as? [[String: String]])?.first?["field"] == "password")

            let malformed = try await server.call("POST", "/v1/auth/signup", body: "{not json")
            #expect(malformed.status == 400)
            #expect(malformed.problemSlug == "invalid-request")
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSame401() async throws {
        try await withIntakeServer { server in
            #expect(try await server.call("POST", "/v1/auth/signup", body: #"{"email":"cat@example.com","password":"password1"}"#).status == 201)
            let wrongPassword = try await server.call("POST", "/v1/auth/login", body: #"{"email":"cat@example.com","password":"password2"}"#)
            let unknownEmail = try await server.call("POST", "/v1/auth/login", body: #"{"email":"dog@example.com","password":"password1"}"#)
            #expect(wrongPassword.status == 401)
            #expect(unknownEmail.status == 401)
            #expect(wrongPassword.json["detail"] as? String == unknownEmail.json["detail"] as? String)
            #expect(wrongPassword.problemSlug == "unauthorized")
        }
    }

    /// A failed login costs the same whether or not the account exists: every attempt, even with
    /// an unknown or malformed address, spends one bcrypt verification (of a hash of the same cost).
    @Test func everyLoginAttemptSpendsOneBcryptVerification() async throws {
        try await withIntakeServer { server in
            #expect(try await server.call("POST", "/v1/auth/signup", body: #"{"email":"owl@example.com","password":"password1"}"#).status == 201)
            let before = try await server.metric("intake_password_verifications_total")
            let attempts = [
                #"{"email":"owl@example.com","password":"password2"}"#,
                #"{"email":"nobody@example.com","password":"password1"}"#,
                #"{"email":"not an address","password":"password1"}"#,
                #"{"email":"owl@example.com","password":"password1"}"#,
            ]
            var statuses: [Int] = []
            for (index, body) in attempts.enumerated() {
                statuses.append(try await server.call("POST", "/v1/auth/login", body: body).status)
                #expect(try await server.metric("intake_password_verifications_total") == before + Double(index + 1), "\(body)")
            }
            #expect(statuses == [401, 401, 401, 200])
        }
    }

    @Test func loginWithAMalformedBodyIs400WithFieldErrors() async throws {
        try await withIntakeServer { server in
            let response = try await server.call("POST", "/v1/auth/login", body: #"{"email":"owl@example.com"}"#)
            #expect(response.status == 400)
            #expect(response.problemSlug == "invalid-request")
            let garbage = try await server.call("POST", "/v1/auth/login", body: "not json")
            #expect(garbage.status == 400)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withIntakeServer(["http.max_body_bytes": "1024"]) { server in
            let padding = String(repeating: "x", count: 2000)
            let response = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"a@b.co","password":"\#(padding)"}"#)
            #expect(response.status == 413)
            #expect(response.problemSlug == "payload-too-large")
        }
    }
}
