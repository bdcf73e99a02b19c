import Foundation
import Glibc
import Synchronization

/// A loopback TCP proxy to a real server that can hold back the server's answers while still
/// passing the client's requests through: a reply lost or late after the server acted on the
/// request, which no pausing of the server itself can produce.
///
/// ``hold()`` holds the connections open at that moment; connections made afterwards (a client
/// reconnecting, with its `AUTH` and `SELECT`) pass freely. Each connection is pumped by two
/// threads (blocking reads; the tests' connections are few).
final class HoldingProxy: Sendable {
    let port: Int
    private let upstreamHost: String
    private let upstreamPort: Int
    /// The listening socket, nil once closed; closed by whoever finds it open under the lock,
    /// so its number is never used after the system may have handed it out again.
    private let listener: Mutex<Int32?>
    /// Connections are numbered as accepted; those numbered below this are held.
    private let holdBelow = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    init(upstreamHost: String = "127.0.0.1", upstreamPort: Int) throws {
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClosedPortError(step: "socket", code: errno) }
        var address = Self.address(host: "127.0.0.1", port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 64) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ready else {
            let code = errno
            close(descriptor)
            throw ClosedPortError(step: "bind/listen", code: code)
        }
        listener = Mutex(descriptor)
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop(descriptor) }.start()
    }

    /// Server-to-client bytes of the connections open now wait (in the kernel's buffers) until
    /// ``release()``.
    func hold() { holdBelow.store(accepted.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent) }
    func release() { holdBelow.store(0, ordering: .sequentiallyConsistent) }

    /// Stops accepting; connections end when either side closes.
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        release()
        listener.withLock { descriptor in
            if let open = descriptor { Glibc.shutdown(open, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop(_ descriptor: Int32) {
        defer {
            listener.withLock { open in
                if let still = open { close(still) }
                open = nil
            }
        }
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else {
                if stopped.load(ordering: .sequentiallyConsistent) { return }
                if errno != EINTR && errno != ECONNABORTED { usleep(10_000) }
                continue
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.address(host: upstreamHost, port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                close(client)
                close(server)
                continue
            }
            let number = accepted.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
            let pair = SocketPair(client: client, server: server)
            Thread { [self] in pump(from: client, to: server, heldAs: nil, pair: pair) }.start()
            Thread { [self] in pump(from: server, to: client, heldAs: number, pair: pair) }.start()
        }
    }

    /// Copies `source` to `destination` until either ends; with `heldAs`, waits while that
    /// connection is held.
    private func pump(from source: Int32, to destination: Int32, heldAs number: Int?, pair: SocketPair) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            // (Checked after the read, which may have begun before the hold.)
            if let number {
                while number < holdBelow.load(ordering: .sequentiallyConsistent) { usleep(5_000) }
            }
            var sent = 0
            while sent < count {
                // (MSG_NOSIGNAL: a peer that has gone away is an error here, not a SIGPIPE that ends
                // the test process.)
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { break }
                sent += written
            }
            guard sent == count else { break }
        }
        pair.pumpEnded()
    }

    private static func address(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }
}

/// The two sockets of one proxied connection, closed once both of its pumps have ended (so
/// that neither pump touches a descriptor number the system may already have reused).
private final class SocketPair: Sendable {
    let client: Int32
    let server: Int32
    private let running = Atomic<Int>(2)

    init(client: Int32, server: Int32) {
        self.client = client
        self.server = server
    }

    /// The first pump to end shuts both sockets down, which ends the other; the last closes them.
    func pumpEnded() {
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(server, Int32(SHUT_RDWR))
        if running.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 {
            close(client)
            close(server)
        }
    }
}
