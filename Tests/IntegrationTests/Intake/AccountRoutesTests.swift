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

    /// A body sent in chunks declares no length: it is refused while it is read, once it passes
    /// the limit, and nothing of it is applied.
    @Test func anOversizedChunkedBodyIs413AndCreatesNothing() async throws {
        try await withIntakeServer(["http.max_body_bytes": "1024"]) { server in
            let port = try #require(server.baseURL.split(separator: ":").last.flatMap { Int($0) })
            let body = #"{"email":"chunky@example.com","password":"\#(String(repeating: "x", count: 3000))"}"#
            var request = "POST /v1/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            request += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            for chunk in stride(from: 0, to: body.utf8.count, by: 500).map({ Array(body.utf8.dropFirst($0).prefix(500)) }) {
                request += String(chunk.count, radix: 16) + "\r\n" + String(decoding: chunk, as: UTF8.self) + "\r\n"
            }
            request += "0\r\n\r\n"
            let bytes = Array(request.utf8)
            let answer = try await runBlocking { try RawHTTP.exchange(port: port, request: bytes) }
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
            #expect(answer.contains("payload-too-large"))
            let users = try await server.pool.query("SELECT count(*) FROM users WHERE email = 'chunky@example.com'")
            #expect(try users[0].int(0) == 0)
        }
    }
}

/// One HTTP exchange over a plain socket, for requests a client library would not send as is.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Writes `request` to 127.0.0.1:`port` and reads until the server closes the connection
    /// (or 10 s pass).
    static func exchange(port: Int, request: [UInt8]) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer 413 and close before taking the whole body.
            if written <= 0 { break }
            sent += written
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
