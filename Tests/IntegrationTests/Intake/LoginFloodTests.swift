import CurlHTTP
import Foundation
import Intake
import Testing

/// A login flood meets a bounded bcrypt queue: what does not fit is turned away at once with
/// 503 and `Retry-After`, never queued without end, and the queue empties again.
@Suite struct LoginFloodTests {
    @Test func loginsBeyondTheBcryptBoundGet503WithRetryAfter() async throws {
        // A slow cost, so that the flood outlasts the bound of two.
        try await withIntakeServer(["auth.bcrypt_cost": "12", "auth.bcrypt_max_pending": "2"]) { server in
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let answer = try await server.call(
                            "POST", "/v1/auth/login", body: #"{"email":"nobody-\#(index)@example.com","password":"wrong-password"}"#)
                        return (answer.status, answer.header("Retry-After"))
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            let shed = statuses.filter { $0.0 == 503 }
            #expect(!shed.isEmpty, "\(statuses.map(\.0))")
            #expect(shed.allSatisfy { $0.1 == "1" })
            #expect(statuses.allSatisfy { $0.0 == 503 || $0.0 == 401 }, "\(statuses.map(\.0))")
            // The bound frees up once the flood is answered.
            let after = try await server.call("POST", "/v1/auth/login", body: #"{"email":"nobody@example.com","password":"wrong-password"}"#)
            #expect(after.status == 401)
        }
    }
}
