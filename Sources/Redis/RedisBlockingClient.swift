import BlockingThreads

/// A connection reserved for blocking commands (`BLMOVE`, `BRPOP`, …).
///
/// A blocking command holds its connection until it returns, so it must never share one with
/// other callers; this client owns one connection on its own thread.
public final class RedisBlockingClient: Sendable {
    let session: ThreadConfined<Session>
    public let configuration: RedisConfiguration

    /// What the client's thread holds: one connection, or on Redis Cluster one per node used so
    /// far and the slot map. A cluster session's connections fail and are replaced one node at a
    /// time, so the session is the confined handle and replaces its connections itself.
    final class Session {
        var connection: RedisConnection?
        var map: RedisClusterMap?
        var nodes: [RedisEndpoint: RedisConnection] = [:]
        /// Pub/sub: the channel `connection` is subscribed to (``RedisBlockingClient/pollMessages(channel:)``).
        var subscribedChannel: String?

        /// The single-node connection, a new one if there is none or it broke.
        func connected(_ configuration: RedisConfiguration) throws -> RedisConnection {
            if let connection, !connection.isBroken { return connection }
            forget()
            let fresh = try RedisConnection(configuration: configuration)
            connection = fresh
            return fresh
        }

        /// Drops the single-node connection (after a failure: its state is unknown).
        func forget() {
            connection = nil
            subscribedChannel = nil
        }
    }

    public init(configuration: RedisConfiguration, name: String = "redis-blocking") {
        self.configuration = configuration
        self.session = ThreadConfined(name: name, open: { Session() })
    }

    /// Sends a blocking command whose server-side timeout is `blockingSeconds`; the client waits
    /// that long plus the usual reply timeout before declaring the connection dead.
    public func send(_ command: RedisCommand, blockingSeconds: Double) async throws -> RedisReply {
        try await session.run { [configuration] session in
            if configuration.isCluster {
                return try Self.sendClustered(command, blockingSeconds: blockingSeconds, session: session, configuration: configuration)
            }
            let connection = try session.connected(configuration)
            connection.setReplyTimeout(
                milliseconds: Int(blockingSeconds * 1000) + configuration.commandTimeoutMilliseconds)
            do {
                return try connection.send(command)
            } catch {
                session.forget()
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
        session.shutdown()
    }
}
