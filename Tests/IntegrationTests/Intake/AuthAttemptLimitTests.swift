import CurlHTTP
import Foundation
import Intake
import Redis
import Settings
import Testing

/// Login and signup limits per email and per address, counted in Redis: two `serve` instances
/// on one database and one Redis enforce one limit.
@Suite struct AuthAttemptLimitTests {
    static func login(_ server: IntakeTestServer, _ email: String) async throws -> HTTPResponse {
        try await server.call("POST", "/v1/auth/login", body: #"{"email":"\#(email)","password":"wrong-password"}"#)
    }

    /// Two instances with these limits, sharing the database and the Redis key prefix.
    static func withTwoInstances(_ overrides: [String: String], _ body: (IntakeTestServer, IntakeTestServer) async throws -> Void) async throws {
        try await TestSlots.intakeServers.withSlot {
            try await withTestDatabase(poolSize: 1) { _, postgres in
                try await withRedisNamespace { _, prefix in
                    let settings = try await IntakeTestServer.settings(
                        postgres: postgres, redis: try await TestServices.shared.redisConfiguration(), keyPrefix: prefix,
                        overrides: overrides)
                    try await runIntakeServer(settings: settings) { one in
                        try await runIntakeServer(settings: settings) { two in try await body(one, two) }
                    }
                }
            }
        }
    }

    @Test func anEmailsLimitHoldsAcrossInstancesAndLocksTheAccountOut() async throws {
        try await Self.withTwoInstances(["limits.auth_email_per_min": "3", "limits.auth_ip_per_min": "1000"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            #expect(try await Self.login(one, "target@example.com").status == 401)
            #expect(try await Self.login(two, "Target@Example.com").status == 401)
            #expect(try await Self.login(one, "target@example.com").status == 401)
            // The fourth try, on either instance, whatever the case of the address.
            let locked = try await Self.login(two, "TARGET@example.com")
            #expect(locked.status == 429)
            #expect(locked.problemSlug == "rate-limited")
            let retryAfter = try #require(locked.header("Retry-After").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 60)
            #expect(try await Self.login(one, "target@example.com").status == 429)
            // Another account, and an unknown one, are counted apart and answered as before.
            #expect(try await Self.login(one, "someone-else@example.com").status == 401)
            let signup = try await two.call("POST", "/v1/auth/signup", body: #"{"email":"target@example.com","password":"password1"}"#)
            #expect(signup.status == 429)
        }
    }

    @Test func anAddressLimitHoldsAcrossInstances() async throws {
        try await Self.withTwoInstances(["limits.auth_email_per_min": "100", "limits.auth_ip_per_min": "4"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            for index in 0..<4 {
                #expect(try await Self.login(index % 2 == 0 ? one : two, "guess-\(index)@example.com").status == 401)
            }
            #expect(try await Self.login(one, "guess-5@example.com").status == 429)
            #expect(try await Self.login(two, "guess-6@example.com").status == 429)
            // Other routes keep their own limits.
            #expect(try await one.call("GET", "/healthz").status == 200)
            #expect(try await one.call("GET", "/v1/products/999999").status == 404)
        }
    }
}
