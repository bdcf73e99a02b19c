import Glibc

extension RedisBlockingClient {
    /// A blocking command on a cluster, on the client's own thread: to the master of its key's
    /// slot, following `MOVED`/`ASK`, and, while the node cannot be reached or the slot has no
    /// master, re-reading the slot map for up to ``RedisConfiguration/clusterRetryMilliseconds``.
    /// A command that was sent and whose answer was lost fails as on a single Redis.
    static func sendClustered(
        _ command: RedisCommand, blockingSeconds: Double, session: Session, configuration: RedisConfiguration
    ) throws -> RedisReply {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(configuration.clusterRetryMilliseconds)
        var target: RedisEndpoint?
        var asking = false
        var lastProblem: any Error = RedisError(code: .connectionFailure, message: "no cluster node answered")
        for round in 0..<16 {
            if round > 0 && target == nil {
                if clock.now >= deadline { break }
                usleep(useconds_t(min(25 << min(round, 4), 400) * 1000))
            }
            if session.map == nil { session.map = loadMap(session: session, configuration: configuration) }
            let node: RedisEndpoint?
            if let target {
                node = target
            } else if case .slot(let slot) = command.route {
                node = session.map?.master(forSlot: slot)
            } else {
                node = session.map?.masters.first ?? configuration.clusterSeeds.first
            }
            guard let node else {
                session.map = nil
                lastProblem = RedisError(code: .unavailable, message: "CLUSTERDOWN Hash slot not served")
                continue
            }
            let connection: RedisConnection
            do {
                connection = try Self.connection(to: node, session: session, configuration: configuration)
            } catch {
                // Never sent: the master may be dead with its replica not yet promoted.
                lastProblem = error
                session.map = nil
                target = nil
                continue
            }
            connection.setReplyTimeout(milliseconds: Int(blockingSeconds * 1000) + configuration.commandTimeoutMilliseconds)
            let reply: RedisReply
            do {
                reply = asking ? try connection.pipeline([RedisCommand("ASKING"), command])[1] : try connection.send(command)
            } catch {
                session.nodes[node] = nil
                session.map = nil
                throw error
            }
            switch RedisClusterDisposition(reply: reply) {
            case .final:
                return reply
            case .moved(let slot, let to):
                let to = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                session.map?.assign(slot: slot, to: to)
                target = to
                asking = false
            case .ask(_, let to):
                target = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                asking = true
            case .retryLater:
                if case .error(let message) = reply { lastProblem = RedisError(code: .unavailable, message: message) }
                session.map = nil
                target = nil
                asking = false
            }
        }
        throw lastProblem
    }

    private static func connection(to node: RedisEndpoint, session: Session, configuration: RedisConfiguration) throws -> RedisConnection {
        if let existing = session.nodes[node], !existing.isBroken { return existing }
        session.nodes[node] = nil
        var single = configuration
        single.host = node.host
        single.port = node.port
        single.clusterSeeds = []
        let fresh = try RedisConnection(configuration: single)
        session.nodes[node] = fresh
        return fresh
    }

    private static func loadMap(session: Session, configuration: RedisConfiguration) -> RedisClusterMap? {
        var candidates: [RedisEndpoint] = []
        for node in Array(session.nodes.keys) + configuration.clusterSeeds where !candidates.contains(node) { candidates.append(node) }
        var best: RedisClusterMap?
        for node in candidates {
            guard let connection = try? connection(to: node, session: session, configuration: configuration) else { continue }
            connection.setReplyTimeout(milliseconds: configuration.commandTimeoutMilliseconds)
            guard let reply = try? connection.send(RedisCommand("CLUSTER", "SLOTS")),
                let map = try? RedisClusterMap(slotsReply: reply, asked: node), !map.masters.isEmpty
            else {
                session.nodes[node] = nil
                continue
            }
            best = map
            if map.coversAllSlots { break }
        }
        return best
    }
}
