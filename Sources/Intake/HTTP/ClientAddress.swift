import NIOCore

/// The address a request came from, as the per-address rate limit counts it: the IP, without
/// the port. It stays a socket address: turning the peer's address into text for every request
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
        self.ip = ip
    }
}

extension ClientAddress {
    /// The IP as text, for keys kept outside this process (Redis); formatted only on the
    /// routes that need it (login and signup), never on every request.
    public var keyText: String { ip?.ipAddress ?? "unknown" }
}
