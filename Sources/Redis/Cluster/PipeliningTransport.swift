import Synchronization

/// The cluster router's way to the nodes: per node, its own pipelining connections (each on its
/// own thread, as for a single Redis), opened the first time the node is needed.
final class PipeliningTransport: RedisClusterTransport {
    private let configuration: RedisConfiguration
    private let connectionsPerNode: Int
    private let name: String

    private final class Node: Sendable {
        let connections: [PipeliningConnection]
        let next = Atomic<Int>(0)
        init(_ connections: [PipeliningConnection]) { self.connections = connections }
        var connection: PipeliningConnection {
            connections[next.wrappingAdd(1, ordering: .relaxed).oldValue % connections.count]
        }
    }

    private let nodes = Mutex<[RedisEndpoint: Node]>([:])
    private let stopped = Atomic<Bool>(false)

    init(configuration: RedisConfiguration, connectionsPerNode: Int, name: String) {
        self.configuration = configuration
        self.connectionsPerNode = connectionsPerNode
        self.name = name
    }

    func send(_ commands: [RedisCommand], to endpoint: RedisEndpoint) async throws -> [RedisReply] {
        guard !stopped.load(ordering: .acquiring) else {
            throw RedisError(code: .closed, message: "the client is shut down")
        }
        let node = nodes.withLock { nodes in
            if let node = nodes[endpoint] { return node }
            var configuration = configuration
            configuration.host = endpoint.host
            configuration.port = endpoint.port
            configuration.clusterSeeds = []
            let node = Node(
                (0..<connectionsPerNode).map {
                    PipeliningConnection(configuration: configuration, name: "\(name)-\(endpoint.port)-\($0)")
                })
            nodes[endpoint] = node
            return node
        }
        return try await node.connection.submit(commands)
    }

    func shutdown() {
        stopped.store(true, ordering: .releasing)
        let all = nodes.withLock { nodes in
            defer { nodes.removeAll() }
            return Array(nodes.values)
        }
        for node in all { for connection in node.connections { connection.shutdown() } }
    }
}
