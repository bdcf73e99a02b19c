import Glibc

extension RedisBlockingClient {
    /// A blocking command on a cluster, on the client's own thread: to the master of its key's
    /// slot, following `MOVED`/`ASK`, and, while the node cannot be reached or the slot has no
    /// master, re-reading the slot map for up to ``RedisConfiguration/clusterRetryMilliseconds``.
    /// A command that was sent and whose answer was lost fails as on a single Redis.
    static func sendClustered(
        _ command: RedisCommand, blockingSeconds: Double, holder: ConnectionHolder, configuration: RedisConfiguration
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
            if holder.map == nil { holder.map = loadMap(holder: holder, configuration: configuration) }
            let node: RedisEndpoint?
            if let target {
                node = target
            } else if case .slot(let slot) = command.route {
                node = holder.map?.master(forSlot: slot)
            } else {
                node = holder.map?.masters.first ?? configuration.clusterSeeds.first
            }
            guard let node else {
                holder.map = nil
                lastProblem = RedisError(code: .unavailable, message: "CLUSTERDOWN Hash slot not served")
                continue
            }
            let connection: RedisConnection
            do {
                connection = try Self.connection(to: node, holder: holder, configuration: configuration)
            } catch {
                // Never sent: the master may be dead with its replica not yet promoted.
                lastProblem = error
                holder.map = nil
                target = nil
                continue
            }
            connection.setReplyTimeout(milliseconds: Int(blockingSeconds * 1000) + configuration.commandTimeoutMilliseconds)
            let reply: RedisReply
            do {
                reply = asking ? try connection.pipeline([RedisCommand("ASKING"), command])[1] : try connection.send(command)
            } catch {
                holder.nodes[node] = nil
                holder.map = nil
                throw error
            }
            switch RedisClusterDisposition(reply: reply) {
            case .final:
                return reply
            case .moved(let slot, let to):
                let to = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                holder.map?.assign(slot: slot, to: to)
                target = to
                asking = false
            case .ask(_, let to):
                target = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                asking = true
            case .retryLater:
                if case .error(let message) = reply { lastProblem = RedisError(code: .unavailable, message: message) }
                holder.map = nil
                target = nil
                asking = false
            }
        }
        throw lastProblem
    }

    private static func connection(to node: RedisEndpoint, holder: ConnectionHolder, configuration: RedisConfiguration) throws -> RedisConnection {
        if let existing = holder.nodes[node], !existing.isBroken { return existing }
        holder.nodes[node] = nil
        var single = configuration
        single.host = node.host
        single.port = node.port
        single.clusterSeeds = []
        let fresh = try RedisConnection(configuration: single)
        holder.nodes[node] = fresh
        return fresh
    }

    private static func loadMap(holder: ConnectionHolder, configuration: RedisConfiguration) -> RedisClusterMap? {
        var candidates: [RedisEndpoint] = []
        for node in Array(holder.nodes.keys) + configuration.clusterSeeds where !candidates.contains(node) { candidates.append(node) }
        var best: RedisClusterMap?
        for node in candidates {
            guard let connection = try? connection(to: node, holder: holder, configuration: configuration) else { continue }
            connection.setReplyTimeout(milliseconds: configuration.commandTimeoutMilliseconds)
            guard let reply = try? connection.send(RedisCommand("CLUSTER", "SLOTS")),
                let map = try? RedisClusterMap(slotsReply: reply, asked: node), !map.masters.isEmpty
            else {
                holder.nodes[node] = nil
                continue
            }
            best = map
            if map.coversAllSlots { break }
        }
        return best
    }
}
