import CurlHTTP
import Foundation
import Testing

/// The libcurl clients against a real HTTP server in the test process.
@Suite struct CurlHTTPClientTests {
    @Test(arguments: [200, 201, 204, 301, 400, 404, 409, 418, 429, 500, 503])
    func statusCodesComeBackAsTheyAre(_ code: Int) async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-status")
            defer { client.shutdown() }
            let response = try await client.execute(HTTPRequest(url: server.baseURL + "/status/\(code)"))
            #expect(response.status == code)
            // Redirects are never followed: a 301 is the answer.
            if code != 204 {
                #expect(response.bodyText == "status \(code)")
                #expect(response.header("content-type") == "text/plain; charset=utf-8")
                #expect(response.header("Content-Length") == String("status \(code)".utf8.count))
            } else {
                #expect(response.body.isEmpty)
            }
        }
    }

    @Test func headersAndBodyArriveIntact() async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-echo")
            defer { client.shutdown() }
            var generator = SystemRandomNumberGenerator()
            let body = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) } + [0, 0xFF, 0]
            let response = try await client.execute(
                HTTPRequest(
                    method: "POST",
                    url: server.baseURL + "/echo",
                    headers: [
                        ("Content-Type", "application/octet-stream"),
                        ("X-Idempotency", "order-42"),
                        ("x-unicode", "caf\u{e9}"),
                        ("X-Empty-Looking", "a b  c"),
                    ],
                    body: body))
            #expect(response.status == 200)
            #expect(response.body.count == body.count)
            #expect(response.body == body)
            #expect(response.header("x-method") == "POST")
            #expect(response.header("X-ECHO-X-IDEMPOTENCY") == "order-42")
            #expect(response.header("x-echo-x-empty-looking") == "a b  c")
            #expect(response.header("x-echo-x-unicode") != nil)
            #expect(response.header("no-such-header") == nil)
        }
    }

    @Test(arguments: ["PUT", "PATCH", "DELETE", "POST"])
    func methodsAndEmptyBodiesAreSent(_ method: String) async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-methods")
            defer { client.shutdown() }
            let withBody = try await client.execute(
                HTTPRequest(method: method, url: server.baseURL + "/echo", body: Array("{\"a\":1}".utf8)))
            #expect(withBody.status == 200)
            #expect(withBody.header("x-method") == method)
            #expect(withBody.bodyText == "{\"a\":1}")
            let empty = try await client.execute(HTTPRequest(method: method, url: server.baseURL + "/echo"))
            #expect(empty.status == 200)
            #expect(empty.header("x-method") == method)
            #expect(empty.body.isEmpty)
        }
    }

    @Test func totalTimeoutEndsTheRequest() async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-timeout")
            defer { client.shutdown() }
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPRequest(url: server.baseURL + "/sleep/2000", timeoutMilliseconds: 200))
            }
            #expect(error?.code == .timeout)
            // The client keeps working after a timed-out transfer.
            let fast = try await client.execute(HTTPRequest(url: server.baseURL + "/sleep/1"))
            #expect(fast.bodyText == "slept")
        }
    }

    @Test func connectionRefusedIsConnectFailed() async throws {
        let port = try ClosedPort()
        let client = CurlHTTPClient(name: "http-refused")
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port.number)/"))
        }
        #expect(error?.code == .connectFailed)
        let blockingError = #expect(throws: HTTPClientError.self) {
            try CurlBlockingHTTPClient().execute(HTTPRequest(url: "http://127.0.0.1:\(port.number)/"))
        }
        #expect(blockingError?.code == .connectFailed)
    }

    @Test func twoHundredConcurrentRequestsAllComplete() async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-concurrent")
            defer { client.shutdown() }
            let requests = 200
            let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<requests {
                    group.addTask {
                        let response = try await client.execute(
                            HTTPRequest(
                                method: "POST",
                                url: server.baseURL + "/echo",
                                headers: [("x-request", "\(index)")],
                                body: Array("request \(index)".utf8),
                                // Many wait their turn on a machine the whole suite shares.
                                timeoutMilliseconds: 60_000))
                        return response.status == 200 && response.bodyText == "request \(index)"
                            && response.header("x-echo-x-request") == "\(index)"
                    }
                }
                var mismatches = 0
                for try await matched in group where !matched { mismatches += 1 }
                return mismatches
            }
            #expect(mismatches == 0)
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-reuse")
            defer { client.shutdown() }
            var ports: Set<String> = []
            for _ in 0..<30 {
                // Patient: the whole suite shares this machine (a 5 s default timed out once).
                let response = try await client.execute(HTTPRequest(url: server.baseURL + "/peer", timeoutMilliseconds: 60_000))
                ports.insert(try #require(response.header("x-peer-port")))
            }
            #expect(ports.count == 1, "30 sequential requests used \(ports.count) connections")

            // The blocking client keeps its connection too.
            let blocking = CurlBlockingHTTPClient()
            var blockingPorts: Set<String> = []
            for _ in 0..<10 {
                let response = try blocking.execute(HTTPRequest(url: server.baseURL + "/peer", timeoutMilliseconds: 60_000))
                blockingPorts.insert(try #require(response.header("x-peer-port")))
            }
            #expect(blockingPorts.count == 1)
        }
    }

    @Test func concurrentRequestsShareAFewConnections() async throws {
        try await withLocalHTTPServer { server in
            let limit = 4
            let client = CurlHTTPClient(name: "http-limited", maxConnectionsPerHost: limit)
            defer { client.shutdown() }
            let requests = 200
            let ports = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<requests {
                    group.addTask {
                        // Queued behind 196 others for 4 connections on a machine the whole
                        // suite shares: a generous timeout, the test is about connections.
                        let response = try await client.execute(HTTPRequest(url: server.baseURL + "/peer", timeoutMilliseconds: 60_000))
                        return response.header("x-peer-port") ?? "missing"
                    }
                }
                var ports: [String] = []
                for try await port in group { ports.append(port) }
                return ports
            }
            #expect(ports.count == requests)
            #expect(!ports.contains("missing"))
            // 200 requests, at most `limit` TCP connections: each carried many requests.
            #expect(Set(ports).count <= limit)
        }
    }

    /// Shutdown does not wait for slow answers: requests queued or running fail with `.closed`
    /// (running transfers are aborted), and the driver thread ends.
    @Test func shutdownAbortsRunningAndQueuedRequests() async throws {
        try await withLocalHTTPServer { server in
            let client = CurlHTTPClient(name: "http-abort")
            let first = try await client.execute(HTTPRequest(url: server.baseURL + "/sleep/1"))
            #expect(first.bodyText == "slept")
            let codes = await withTaskGroup(of: HTTPClientError.Code?.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await client.execute(HTTPRequest(url: server.baseURL + "/sleep/3000"))
                            return nil
                        } catch {
                            return (error as? HTTPClientError)?.code
                        }
                    }
                }
                group.addTask {
                    // Lets the requests reach the driver, so most are running when it stops.
                    try? await Task.sleep(for: .milliseconds(300))
                    client.shutdown()
                    return .closed
                }
                return await group.reduce(into: [HTTPClientError.Code?]()) { $0.append($1) }
            }
            #expect(codes.count == 21 && codes.allSatisfy { $0 == .closed }, "\(codes)")
        }
    }

    @Test func shutDownClientRefusesRequests() async throws {
        let client = CurlHTTPClient(name: "http-closed")
        client.shutdown()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:1/"))
        }
        #expect(error?.code == .closed)
    }
}
