import BlockingThreads

/// A connection reserved for blocking commands (`BLMOVE`, `BRPOP`, …).
///
/// A blocking command holds its connection until it returns, so it must never share one with
/// other callers; this client owns one connection on its own thread.
public final class RedisBlockingClient: Sendable {
    let thread: DedicatedThread
    let holder: ConnectionHolder
    public let configuration: RedisConfiguration

    final class ConnectionHolder: @unchecked Sendable {
        // Only touched on `thread`.
        var connection: RedisConnection?
        // Redis Cluster mode: the slot map and a connection per node used so far.
        var map: RedisClusterMap?
        var nodes: [RedisEndpoint: RedisConnection] = [:]
        /// Pub/sub: the channel `connection` is subscribed to (``RedisBlockingClient/pollMessages(channel:)``).
        var subscribedChannel: String?
    }

    public init(configuration: RedisConfiguration, name: String = "redis-blocking") {
        self.configuration = configuration
        self.thread = DedicatedThread(name: name)
        self.holder = ConnectionHolder()
    }

    /// Sends a blocking command whose server-side timeout is `blockingSeconds`; the client waits
    /// that long plus the usual reply timeout before declaring the connection dead.
    public func send(_ command: RedisCommand, blockingSeconds: Double) async throws -> RedisReply {
        try await thread.run { [holder, configuration] in
            if configuration.isCluster {
                return try Self.sendClustered(command, blockingSeconds: blockingSeconds, holder: holder, configuration: configuration)
            }
            let connection: RedisConnection
            if let existing = holder.connection, !existing.isBroken {
                connection = existing
            } else {
                holder.connection = nil
                connection = try RedisConnection(configuration: configuration)
                holder.connection = connection
            }
            connection.setReplyTimeout(
                milliseconds: Int(blockingSeconds * 1000) + configuration.commandTimeoutMilliseconds)
            do {
                return try connection.send(command)
            } catch {
                holder.connection = nil
                throw error
            }
        }
    }

    /// `BLMOVE source destination LEFT RIGHT timeout`: the moved element, or nil on timeout.
    public func blmove(from source: String, to destination: String, timeoutSeconds: Double) async throws -> [UInt8]? {
        let reply = try await send(
            RedisCommand("BLMOVE", source, destination, "LEFT", "RIGHT", timeoutSeconds),
            blockingSeconds: timeoutSeconds
        ).throwingError()
        if case .bulk(let bytes) = reply { return bytes }
        return nil
    }

    /// `BRPOP key… timeout`: (key, element), or nil on timeout.
    public func brpop(_ keys: [String], timeoutSeconds: Double) async throws -> (key: String, value: [UInt8])? {
        var command = RedisCommand("BRPOP")
        for key in keys { command.append(key) }
        command.append(timeoutSeconds)
        let reply = try await send(command, blockingSeconds: timeoutSeconds).throwingError()
        guard case .array(let pair) = reply, pair.count == 2, let key = pair[0].string,
            case .bulk(let value) = pair[1]
        else { return nil }
        return (key, value)
    }

    public func shutdown() {
        thread.submit { [holder] in
            holder.connection = nil
            holder.nodes = [:]
        }
        thread.shutdown()
    }
}
