/// One Redis server's address.
public struct RedisEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` (the form `MOVED`/`ASK` replies and the `redis.cluster_nodes` setting use);
    /// the port is after the last colon, so an IPv6 address keeps its own. The host may be empty
    /// (a node that does not know its own address answers `MOVED 42 :7001`): the asker fills it in.
    public init?(parsing text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}
