import CurlHTTP
import Foundation
import Glibc
import Testing

/// Idle connections and slowloris clients (headers a byte at a time) are closed after
/// `http.idle_timeout_s`, and a normal client is answered meanwhile.
@Suite struct SlowClientTests {
    /// A non-blocking loopback connection, polled from the test (never blocking a thread).
    final class RawConnection {
        let descriptor: Int32

        init(port: Int) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard descriptor >= 0, connected == 0 else { throw TestFailure("cannot connect: errno \(errno)") }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }

        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// Whether the server has closed the connection (end of stream or reset).
        var isClosed: Bool {
            var byte: UInt8 = 0
            let read = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT))
            return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        deinit { close(descriptor) }
    }

    @Test func idleAndSlowlorisConnectionsAreClosedAndANormalClientIsAnswered() async throws {
        try await withIntakeServer(["http.idle_timeout_s": "1"]) { server in
            let port = try #require(Int(server.baseURL.split(separator: ":").last!))
            let idle = try (0..<50).map { _ in try RawConnection(port: port) }
            let slow = try (0..<10).map { _ in try RawConnection(port: port) }
            for connection in slow { connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") }
            #expect(try await server.call("GET", "/healthz").status == 200)

            let deadline = ContinuousClock.now + .seconds(30)
            var open = idle + slow
            while !open.isEmpty && ContinuousClock.now < deadline {
                for connection in slow { connection.send("a") }
                open = open.filter { !$0.isClosed }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(open.count == 0, "connections still open")
            #expect(try await server.call("GET", "/healthz").status == 200)
        }
    }
}
