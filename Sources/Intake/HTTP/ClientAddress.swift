import Glibc
import NIOCore

/// The address a request came from, as the per-address rate limit counts it: the IP, without
/// the port. It stays bytes: turning the peer's address into text for every request (what the
/// limit used to key on) cost more than the limit's own lookup.
public struct ClientAddress: Hashable, Sendable {
    private enum IP: Hashable {
        case v4(UInt32)
        case v6(UInt64, UInt64)
        /// A Unix domain socket, or a peer whose address the channel does not know.
        case other
    }

    private let ip: IP

    public init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4)?:
            ip = .v4(v4.address.sin_addr.s_addr)
        case .v6(let v6)?:
            ip = withUnsafeBytes(of: v6.address.sin6_addr) { bytes in
                .v6(bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
        case .unixDomainSocket?, nil:
            ip = .other
        }
    }
}
