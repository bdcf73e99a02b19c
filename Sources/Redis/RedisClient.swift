import Synchronization

/// A Redis client for async callers that pipelines automatically.
///
/// Each connection is owned by its own thread. Callers queue commands; the thread takes everything
/// queued since its last round trip, writes it all, then reads all replies. Under load, many
/// callers' commands share one round trip without any caller batching by hand.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let connections: [PipeliningConnection]
    private let nextConnection = Atomic<Int>(0)
    /// Redis Cluster mode (``RedisConfiguration/clusterSeeds`` set): `connections` per node.
    private let cluster: (router: RedisClusterRouter<PipeliningTransport>, transport: PipeliningTransport)?

    public init(configuration: RedisConfiguration, connections: Int = 1, name: String = "redis") {
        precondition(connections > 0)
        self.configuration = configuration
        if configuration.isCluster {
            let transport = PipeliningTransport(configuration: configuration, connectionsPerNode: connections, name: name)
            self.cluster = (
                RedisClusterRouter(
                    seeds: configuration.clusterSeeds, transport: transport,
                    retryMilliseconds: configuration.clusterRetryMilliseconds),
                transport
            )
            self.connections = []
        } else {
            self.cluster = nil
            self.connections = (0..<connections).map {
                PipeliningConnection(configuration: configuration, name: "\(name)-\($0)")
            }
        }
    }

    /// The slot map as last learnt; nil on a single Redis.
    public var clusterMap: RedisClusterMap? { cluster?.router.map }

    /// Sends one command; a server error reply is returned as `.error`, not thrown.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await pipeline([command])[0]
    }

    /// Sends one command and throws the server's error reply.
    @discardableResult
    public func execute(_ name: String, _ arguments: any RedisArgument...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments)).throwingError()
    }

    /// Sends several commands in one round trip, in order, on one connection. (On a cluster:
    /// one round trip per node, all at once; commands on one slot keep their order.)
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        if let cluster { return try await cluster.router.pipeline(commands) }
        let index = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue % connections.count
        return try await connections[index].submit(commands)
    }

    /// Runs a Lua script, loading it first when the server does not know it.
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [any RedisArgument] = []) async throws -> RedisReply {
        try await runAll(script, calls: [(keys, arguments)])[0]
    }

    /// Runs a script once per call, all in one round trip (one more if it must be loaded first).
    /// Error replies of individual calls are returned, not thrown.
    public func runAll(_ script: RedisScript, calls: [(keys: [String], arguments: [any RedisArgument])]) async throws -> [RedisReply] {
        let commands = calls.map { script.command(keys: $0.keys, arguments: $0.arguments) }
        var replies = try await pipeline(commands)
        let missing = replies.indices.filter {
            if case .error(let message) = replies[$0], message.hasPrefix("NOSCRIPT") { return true }
            return false
        }
        if !missing.isEmpty {
            try await send(RedisCommand("SCRIPT", "LOAD", script.source)).throwingError()
            let retried = try await pipeline(missing.map { commands[$0] })
            for (position, index) in missing.enumerated() { replies[index] = retried[position] }
        }
        return replies
    }

    public func shutdown() {
        for connection in connections { connection.shutdown() }
        cluster?.transport.shutdown()
    }
}
