import CurlHTTP
import Foundation
import Intake
import Postgres
import ShopDomain
import Storage
import Synchronization
import Testing

/// The issue's first test (issue 16), scaled down for the suite (the full figures are
/// `fastest-shop bench flood`): 2,000 wrong-password logins from one address and 500 spread
/// over 50 addresses at one email, while 20 real customers — each from an address of their
/// own — log in and enter a draw. Every customer gets in; the flood gets 401, 429 or 503 with
/// `Retry-After`, never another 5xx. Loopback addresses stand for distinct clients (every
/// 127.x.y.z is this machine; the client binds its connections to one).
@Suite struct LoginFloodCrowdTests {
    static let singleAddressLogins = 2_000
    static let spreadLogins = 500
    static let spreadAddresses = 50
    static let customers = 20
    static let password = "a real customer's password"

    @Test func realCustomersGetInDuringALoginFlood() async throws {
        // A slow bcrypt and a short queue, so the flood saturates it as at cost 10 in production.
        try await withIntakeServer(["auth.bcrypt_cost": "8", "auth.bcrypt_max_pending": "16"]) { server in
            let hash = try await server.service.passwords.hash(Self.password)
            let tag = UUID().uuidString.prefix(8).lowercased()
            let emails = (0..<Self.customers).map { "crowd-\(tag)-\($0)@example.com" }
            _ = try await UserStore(pool: server.pool).createMany(
                emails: emails.map { EmailAddress($0)! }, passwordHash: hash, role: .customer)
            let drop = try await server.makeDrop()
            let http = CurlHTTPClient(name: "flood", maxIdleConnections: 512)
            defer { http.shutdown() }

            let tally = Tally()
            let record: @Sendable (HTTPResponse?) -> Void = { tally.record($0) }
            async let flood: Void = withTaskGroup(of: Void.self) { group in
                let next = Tally()
                for _ in 0..<32 {
                    group.addTask {
                        while true {
                            let index = next.take()
                            guard index < Self.singleAddressLogins else { return }
                            record(try? await Self.login(http, server.baseURL, "guess-\(index)@example.com", "wrong-password", from: "127.0.0.2"))
                        }
                    }
                }
                for address in 0..<Self.spreadAddresses {
                    group.addTask {
                        for _ in 0..<(Self.spreadLogins / Self.spreadAddresses) {
                            record(
                                try? await Self.login(http, server.baseURL, "victim@example.com", "wrong-password", from: "127.0.2.\(address + 1)"))
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let entered = await withTaskGroup(of: Int?.self) { group in
                for (index, email) in emails.enumerated() {
                    group.addTask {
                        let address = "127.0.1.\(index + 1)"
                        guard
                            let login = await HTTPResponse.retryingAsTold({
                                try await Self.login(http, server.baseURL, email, Self.password, from: address)
                            }),
                            login.status == 200, let token = login.json["access_token"] as? String
                        else { return nil }
                        let entry = await HTTPResponse.retryingAsTold {
                            try await http.execute(
                                HTTPRequest(
                                    method: "POST", url: server.baseURL + "/v1/drops/\(drop.id)/entries",
                                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                    body: Array("{}".utf8), timeoutMilliseconds: 60_000, localAddress: address))
                        }
                        return entry?.status
                    }
                }
                var statuses: [Int?] = []
                for await status in group { statuses.append(status) }
                return statuses
            }
            await flood

            #expect(entered.count == Self.customers)
            #expect(entered.allSatisfy { $0 == 201 }, "\(entered)")
            let committed = try await server.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(drop.id)])[0].int(0)
            #expect(committed == Self.customers)
            let statuses = tally.statuses
            #expect(statuses.values.reduce(0, +) == Self.singleAddressLogins + Self.spreadLogins)
            #expect(Set(statuses.keys).isSubset(of: [401, 429, 503]), "\(statuses)")
            #expect(tally.missingRetryAfter == 0)
            // The limits did their part: the single address and the victim email were refused.
            #expect(statuses[429, default: 0] > 0, "\(statuses)")
        }
    }

    /// Answers of the flood by status, and 503s without `Retry-After`; tickets for attackers.
    final class Tally: Sendable {
        private let state = Mutex<(statuses: [Int: Int], missingRetryAfter: Int, next: Int)>(([:], 0, 0))

        func record(_ answer: HTTPResponse?) {
            let status = answer?.status ?? 0
            state.withLock { state in
                state.statuses[status, default: 0] += 1
                if status == 503 && answer?.header("Retry-After") == nil { state.missingRetryAfter += 1 }
            }
        }

        func take() -> Int {
            state.withLock { state in
                defer { state.next += 1 }
                return state.next
            }
        }
        var statuses: [Int: Int] { state.withLock { $0.statuses } }
        var missingRetryAfter: Int { state.withLock { $0.missingRetryAfter } }
    }

    static func login(_ http: CurlHTTPClient, _ baseURL: String, _ email: String, _ password: String, from address: String) async throws
        -> HTTPResponse
    {
        try await http.execute(
            HTTPRequest(
                method: "POST", url: baseURL + "/v1/auth/login", headers: [("Content-Type", "application/json")],
                body: Array(#"{"email":"\#(email)","password":"\#(password)"}"#.utf8), timeoutMilliseconds: 60_000,
                localAddress: address))
    }
}
