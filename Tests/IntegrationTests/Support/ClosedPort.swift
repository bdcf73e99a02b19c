import Glibc

/// A loopback TCP port that is bound but not listening, so connecting to it is refused.
///
/// Holding the socket for the test's lifetime keeps the port from being taken by anyone else,
/// which a "pick a port and hope nobody uses it" approach cannot promise.
final class ClosedPort: Sendable {
    let number: Int
    private let socketDescriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClosedPortError(step: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw ClosedPortError(step: "bind", code: errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            close(descriptor)
            throw ClosedPortError(step: "getsockname", code: errno)
        }
        self.socketDescriptor = descriptor
        self.number = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socketDescriptor) }
}

struct ClosedPortError: Error, CustomStringConvertible {
    let step: String
    let code: Int32
    var description: String { "\(step) failed with errno \(code)" }
}

extension ClosedPort {
    /// A port that was free a moment ago (bound, then released), for a server a subprocess
    /// will start; the tiny window in which someone else could take it is accepted in tests.
    static func free() throws -> Int { try ClosedPort().number }
}
