import CurlHTTP
import Foundation
import Intake
import Redis
import Testing

/// Failed logins lock an email out progressively (issue 16): from the `limits.auth_lockout_after`th
/// failure on each one locks it for `limits.auth_lockout_first_s`, then twice, four times as long…; kept in Redis, so the lockout
/// holds on every instance; the same answers and the same work for an email without an account.
@Suite struct LoginLockoutTests {
    static func login(_ server: IntakeTestServer, _ email: String, _ password: String) async throws -> HTTPResponse {
        try await server.call("POST", "/v1/auth/login", body: #"{"email":"\#(email)","password":"\#(password)"}"#)
    }

    /// Logs in with `password` until the answer is not 429 (the lockout ran out); returns it.
    static func loginOnceUnlocked(_ server: IntakeTestServer, _ email: String, _ password: String) async throws -> HTTPResponse {
        var answer = try await login(server, email, password)
        for _ in 0..<100 where answer.status == 429 {
            try await Task.sleep(for: .milliseconds(100))
            answer = try await login(server, email, password)
        }
        return answer
    }

    @Test func failedLoginsLockAnAccountOutProgressivelyOnEveryInstance() async throws {
        // A first lockout of 4 s: long enough that the checks below all fall inside it on a
        // loaded machine.
        let overrides = [
            "limits.auth_lockout_after": "3", "limits.auth_lockout_first_s": "4", "limits.auth_lockout_max_s": "60",
            "limits.auth_email_per_min": "1000",
        ]
        try await AuthAttemptLimitTests.withTwoInstances(overrides) { (one: IntakeTestServer, two: IntakeTestServer) async throws in
            #expect(try await one.call("POST", "/v1/auth/signup", body: #"{"email":"owl@example.com","password":"password1"}"#).status == 201)
            for email in ["owl@example.com", "nobody@example.com"] {
                for attempt in 0..<3 {
                    let failed = try await Self.login(attempt % 2 == 0 ? one : two, email, "wrong-password")
                    #expect(failed.status == 401, "\(email) attempt \(attempt)")
                }
            }
            // The third failure locked both emails, on both instances, before any bcrypt work;
            // the right password does not get through a lockout.
            let verifications = try await two.metric("intake_password_verifications_total")
            let locked = try await Self.login(two, "OWL@example.com", "password1")
            let lockedUnknown = try await Self.login(two, "nobody@example.com", "password1")
            for answer in [locked, lockedUnknown] {
                #expect(answer.status == 429)
                #expect(answer.problemSlug == "rate-limited")
                let retryAfter = answer.header("Retry-After").flatMap(Int.init) ?? 0
                #expect(retryAfter >= 1 && retryAfter <= 4)
            }
            #expect(locked.json["detail"] as? String == lockedUnknown.json["detail"] as? String)
            #expect(try await two.metric("intake_password_verifications_total") == verifications)

            // Once the lockout ran out, another failure locks for twice as long.
            #expect(try await Self.loginOnceUnlocked(one, "nobody@example.com", "wrong-password").status == 401)
            let lockout = try await one.redis.execute("PTTL", one.keyPrefix + "auth:lockout:nobody@example.com").int ?? 0
            #expect(lockout > 4000 && lockout <= 8000, "the fourth failure locks for 8 s (\(lockout) ms left)")
            #expect(try await Self.login(two, "nobody@example.com", "password1").status == 429)

            // A successful login forgets the failures: the next failure is answered 401 and does
            // not lock the account.
            #expect(try await Self.loginOnceUnlocked(two, "owl@example.com", "password1").status == 200)
            #expect(try await Self.login(one, "owl@example.com", "wrong-password").status == 401)
            #expect(try await Self.login(one, "owl@example.com", "password1").status == 200)
        }
    }
}
