import CurlHTTP
import Foundation
import Intake
import Postgres
import ShopDomain
import Testing

/// Control characters in a text field are a 400 naming the field, before anything is stored or
/// hashed (libpq and bcrypt would cut a NUL short).
@Suite struct ControlCharacterTests {
    static func fields(_ response: HTTPResponse) -> [String] {
        (response.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
    }

    @Test func signupAndLoginRefuseControlCharactersByField() async throws {
        try await withIntakeServer { server in
            let nulPassword = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"nul@example.com","password":"\u0000xxxxxxxx"}"#)
            #expect(nulPassword.status == 400)
            #expect(nulPassword.problemSlug == "invalid-request")
            #expect(Self.fields(nulPassword) == ["password"])
            let nulEmail = try await server.call("POST", "/v1/auth/signup", body: #"{"email":"nul\u0000@example.com","password":"password1"}"#)
            #expect(nulEmail.status == 400)
            #expect(Self.fields(nulEmail) == ["email"])
            #expect((nulEmail.json["errors"] as? [[String: String]])?.first?["message"]?.contains("control") == true)
            let users = try await server.pool.query("SELECT count(*) FROM users WHERE email LIKE 'nul%'")[0].int(0)
            #expect(users == 0)

            #expect(try await server.call("POST", "/v1/auth/signup", body: #"{"email":"del@example.com","password":"password1"}"#).status == 201)
            let login = try await server.call("POST", "/v1/auth/login", body: #"{"email":"del@example.com","password":"password1\u007f"}"#)
            #expect(login.status == 400)
            #expect(Self.fields(login) == ["password"])
            let loginEmail = try await server.call("POST", "/v1/auth/login", body: #"{"email":"del@example.com\u001b","password":"password1"}"#)
            #expect(loginEmail.status == 400)
            #expect(Self.fields(loginEmail) == ["email"])
            // Without them, the same account logs in.
            #expect(try await server.call("POST", "/v1/auth/login", body: #"{"email":"del@example.com","password":"password1"}"#).status == 200)
        }
    }

    @Test func productNamesRefuseControlCharacters() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let created = try await server.call(
                "POST", "/v1/products", token: operatorUser.token, body: #"{"name":"Shoe\u0000","price_cents":100,"currency":"EUR"}"#)
            #expect(created.status == 400)
            #expect(Self.fields(created) == ["name"])
            let product = try await server.makeProduct()
            let patched = try await server.call(
                "PATCH", "/v1/products/\(product.id)", token: operatorUser.token, body: #"{"name":"Shoe\nRed"}"#)
            #expect(patched.status == 400)
            #expect(Self.fields(patched) == ["name"])
            let stored = try await server.pool.query("SELECT name FROM products WHERE id = $1", [.int(product.id)])[0].string(0)
            #expect(stored == product.name)
        }
    }
}
