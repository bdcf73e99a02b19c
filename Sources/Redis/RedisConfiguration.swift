/// Where Redis listens and how long to wait for it.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var password: String?
    public var database: Int
    /// Milliseconds to wait for a connection.
    public var connectTimeoutMilliseconds: Int
    /// Milliseconds to wait for any one reply (blocking commands add their own timeout to this).
    public var commandTimeoutMilliseconds: Int
    /// Redis Cluster: the nodes to learn the slot map from (any few of the cluster's nodes).
    /// Empty: one single Redis at `host:port`, exactly as without a cluster.
    public var clusterSeeds: [RedisEndpoint]
    /// Redis Cluster: how long a command whose node cannot be reached (a master that died and
    /// whose replica is not promoted yet) or whose slot has no master (`CLUSTERDOWN`) is retried,
    /// re-reading the slot map in between, before the caller gets the error.
    public var clusterRetryMilliseconds: Int

    public var isCluster: Bool { !clusterSeeds.isEmpty }

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        password: String? = nil,
        database: Int = 0,
        connectTimeoutMilliseconds: Int = 1000,
        commandTimeoutMilliseconds: Int = 5000,
        clusterSeeds: [RedisEndpoint] = [],
        clusterRetryMilliseconds: Int = 5000
    ) {
        self.clusterSeeds = clusterSeeds
        self.clusterRetryMilliseconds = clusterRetryMilliseconds
        self.host = host
        self.port = port
        self.password = password
        self.database = database
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
    }
}

/// Describes and mirrors itself without the password: a configuration printed into a log line,
/// or dumped with something that holds it, must not carry the secret along.
extension RedisConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "RedisConfiguration(\(isCluster ? "cluster " + clusterSeeds.map(\.description).joined(separator: ",") : "\(host):\(port)/\(database)"), password: \(password == nil ? "<none>" : "<redacted>"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "password": password == nil ? "<none>" : "<redacted>", "database": database,
                "connectTimeoutMilliseconds": connectTimeoutMilliseconds, "commandTimeoutMilliseconds": commandTimeoutMilliseconds,
                "clusterSeeds": clusterSeeds.map(\.description), "clusterRetryMilliseconds": clusterRetryMilliseconds,
            ], displayStyle: .struct)
    }
}
