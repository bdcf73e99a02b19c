import NIOCore

/// The address a request came from, as the per-address rate limit counts it: the IP, without
/// the port; for IPv6 its /64 network (one subscriber usually holds a whole /64, so rotating
/// addresses inside it would otherwise bypass the limit and grow the buckets without bound). It stays a socket address: turning the peer's address into text for every request
/// (what the limit used to key on) cost more than the limit's own lookup.
public struct ClientAddress: Hashable, Sendable {
    /// The peer's address with port 0; nil for a Unix domain socket or an unknown peer.
    private let ip: SocketAddress?

    public init(_ address: SocketAddress?) {
        // IPv4 and IPv6 addresses have a port; a Unix domain socket has none.
        guard var ip = address, ip.port != nil else {
            self.ip = nil
            return
        }
        ip.port = 0
        self.ip = ip.protocol == .inet6 ? Self.network64(of: ip) ?? ip : ip
    }

    /// The IPv6 address with its last 64 bits zeroed (port 0). Read from the sockaddr's bytes
    /// (sockaddr_in6: family 2, port 2, flow info 4, then the 16 address bytes) rather than
    /// its C struct members, which one build could not see.
    private static func network64(of address: SocketAddress) -> SocketAddress? {
        let bytes: [UInt8]? = address.withSockAddr { pointer, size in
            guard size >= 24 else { return nil }
            let raw = UnsafeRawPointer(pointer)
            return (8..<16).map { raw.load(fromByteOffset: $0, as: UInt8.self) } + [UInt8](repeating: 0, count: 8)
        }
        guard let bytes else { return nil }
        return try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0)
    }
}

extension ClientAddress {
    /// The IP as text, for keys kept outside this process (the shared limits in Redis).
    public var keyText: String { ip?.ipAddress ?? "unknown" }
}
