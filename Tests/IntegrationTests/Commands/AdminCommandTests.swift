import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Testing

/// `fastest-shop admin create-user`: bootstraps an operator who can then log in and operate.
@Suite struct AdminCommandTests {
    static func createUser(_ stack: ShopStack, _ arguments: [String], password: String?) async throws -> (status: Int32, output: String) {
        var environment = stack.environment
        if let password { environment["FASTEST_SHOP_ADMIN_PASSWORD"] = password }
        let process = try ShopProcess(["admin", "create-user"] + arguments, environment: environment)
        let status = try await process.waitForExit(timeout: 120)
        return (status, process.output)
    }

    @Test func anOperatorCreatedOnTheCommandLineLogsInAndOperates() async throws {
        try await withShopStack { stack in
            let password = "first-operator-passphrase-7"
            let created = try await Self.createUser(stack, ["--email", "  Boss@Example.COM ", "--role", "operator"], password: password)
            #expect(created.status == 0, "\(created.output)")
            #expect(created.output.contains("created operator boss@example.com"))
            #expect(!created.output.contains(password))
            let stored = try await stack.pool.query("SELECT role, password_hash FROM users WHERE email = 'boss@example.com'")
            #expect(stored.count == 1)
            #expect(try stored[0].string(0) == "operator")
            #expect(try stored[0].string(1).hasPrefix("$2"), "stored as a bcrypt hash")

            try await stack.startServe()
            let login = try await stack.call(
                "POST", "/v1/auth/login", body: #"{"email":"boss@example.com","password":"\#(password)"}"#)
            #expect(login.status == 200)
            let token = try #require(login.json["access_token"] as? String)
            let product = try await stack.call(
                "POST", "/v1/products", token: token, body: #"{"name":"Runner","price_cents":9900,"currency":"EUR"}"#)
            #expect(product.status == 201, "an operator may create products")
        }
    }

    @Test func badInputEndsWithOneLineAndANonZeroStatusAndCreatesNothing() async throws {
        try await withShopStack { stack in
            #expect(try await Self.createUser(stack, ["--email", "ops@example.com"], password: "a-good-long-passphrase").status == 0)
            let cases: [(arguments: [String], password: String, says: String)] = [
                (["--email", "ops@example.com"], "another-good-passphrase", "already exists"),
                (["--email", "not-an-address"], "a-good-long-passphrase", "not an email address"),
                (["--email", "short@example.com"], "short", "password"),
            ]
            for (arguments, password, says) in cases {
                let result = try await Self.createUser(stack, arguments, password: password)
                #expect(result.status != 0, "\(arguments)")
                let lines = result.output.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].hasPrefix("fastest-shop: admin:") && lines[0].contains(says), "\(result.output)")
            }
            let badRole = try await Self.createUser(stack, ["--email", "x@example.com", "--role", "wizard"], password: "a-good-long-passphrase")
            #expect(badRole.status != 0)
            let users = try await stack.pool.query("SELECT email FROM users ORDER BY id").map { try $0.string(0) }
            #expect(users == ["ops@example.com"])
        }
    }
}

/// `admin disable-user` and `admin set-role`: the account's tokens stop working.
@Suite struct AdminAccountCommandTests {
    static func admin(_ stack: ShopStack, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try ShopProcess(["admin"] + arguments, environment: stack.environment)
        let status = try await process.waitForExit(timeout: 120)
        return (status, process.output)
    }

    @Test func disableUserAndSetRoleChangeTheAccountAndBumpItsTokenVersion() async throws {
        try await withShopStack { stack in
            _ = try await stack.pool.query(
                "INSERT INTO users (email, password_hash, role) VALUES ('a@example.com', 'x', 'customer'), ('b@example.com', 'x', 'operator')")
            let disabled = try await Self.admin(stack, ["disable-user", "--email", "A@example.com"])
            #expect(disabled.status == 0, "\(disabled.output)")
            #expect(disabled.output.contains("disabled a@example.com"))
            let demoted = try await Self.admin(stack, ["set-role", "--email", "b@example.com", "--role", "customer"])
            #expect(demoted.status == 0, "\(demoted.output)")
            let rows = try await stack.pool.query(
                "SELECT email, role, token_version, disabled_at IS NOT NULL FROM users ORDER BY email")
            #expect(try rows[0].string(1) == "customer" && rows[0].int(2) == 1 && rows[0].bool(3))
            #expect(try rows[1].string(1) == "customer" && rows[1].int(2) == 1 && !rows[1].bool(3))
            let unknown = try await Self.admin(stack, ["disable-user", "--email", "nobody@example.com"])
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("no account has nobody@example.com"))
        }
    }
}
