import Synchronization

/// Sends a batch of commands to one node, in order, in one round trip.
///
/// The cluster router talks to nodes only through this, so its state machine (slot map,
/// `MOVED`, `ASK`, retries) can be exercised without servers.
public protocol RedisClusterTransport: Sendable {
    func send(_ commands: [RedisCommand], to node: RedisEndpoint) async throws -> [RedisReply]
}

/// Routes commands over a Redis Cluster: each to the master owning its key's slot, a batch split
/// into one pipelined round trip per node (all nodes at once), following `MOVED` (the map is
/// corrected and then re-read in full) and `ASK` (`ASKING` + the command, on the importing
/// node). A node that cannot be reached, or a slot without a master, is retried with the map
/// re-read in between for up to `retryMilliseconds`: that is the window in which a replica
/// takes over a dead master.
///
/// Only commands that never left this process are retried after a connection error; a batch
/// whose answers were lost fails as it does on a single Redis (its fate is unknown to us).
public final class RedisClusterRouter<Transport: RedisClusterTransport>: Sendable {
    public let seeds: [RedisEndpoint]
    public let transport: Transport
    let retryMilliseconds: Int
    /// Most rounds of redirections for one batch: more means the map and the cluster disagree
    /// in a loop, which waiting will not fix.
    let maximumRounds = 16

    private struct State {
        var map = RedisClusterMap()
        var loaded = false
        /// Bumped by every completed refresh; a caller that saw generation g and wants a fresher
        /// map waits for g + 1 rather than starting one refresh per caller.
        var generation = 0
        var refresh: Task<Void, Never>?
    }

    private let state = Mutex(State())

    public init(seeds: [RedisEndpoint], transport: Transport, retryMilliseconds: Int) {
        precondition(!seeds.isEmpty)
        self.seeds = seeds
        self.transport = transport
        self.retryMilliseconds = retryMilliseconds
    }

    /// The map as last learnt (for status output and tests).
    public var map: RedisClusterMap { state.withLock { $0.map } }

    /// Re-reads the slot map from any node that answers, unless somebody else already did after
    /// `generation`. Concurrent callers share one refresh.
    public func refresh(after generation: Int? = nil) async {
        let task: Task<Void, Never>? = state.withLock { state in
            if let generation, state.generation > generation { return nil }
            if let running = state.refresh { return running }
            let task = Task { await self.load() }
            state.refresh = task
            return task
        }
        await task?.value
    }

    private func load() async {
        let known = state.withLock { $0.map.masters }
        var candidates: [RedisEndpoint] = []
        for node in known + seeds where !candidates.contains(node) { candidates.append(node) }
        var learnt: RedisClusterMap?
        for node in candidates {
            guard let reply = try? await transport.send([RedisCommand("CLUSTER", "SLOTS")], to: node).first,
                let map = try? RedisClusterMap(slotsReply: reply, asked: node), !map.masters.isEmpty
            else { continue }
            learnt = map
            // A map with holes (a shard mid-failover as seen by this node) is still the best we
            // have, but another node may know better.
            if map.coversAllSlots { break }
        }
        state.withLock { state in
            if let learnt {
                state.map = learnt
                state.loaded = true
            }
            state.generation += 1
            state.refresh = nil
        }
    }

    private func snapshot() async -> (map: RedisClusterMap, generation: Int) {
        let current = state.withLock { $0.loaded ? ($0.map, $0.generation) : nil }
        if let current { return current }
        await refresh()
        return state.withLock { ($0.map, $0.generation) }
    }

    private struct Pending {
        let index: Int
        /// Set by a redirection; nil routes by the map.
        var target: RedisEndpoint?
        var asking = false
    }

    /// Sends every command to the node it belongs to; replies in the commands' order.
    /// (Commands for different nodes run concurrently: only commands for one slot keep their order.)
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        let routes = commands.map(\.route)
        var pending = commands.indices.map { Pending(index: $0) }
        let clock = ContinuousClock()
        // The patience starts with the first wait (a node unreachable, TRYAGAIN, CLUSTERDOWN):
        // redirections are followed whatever the time, so a slow first round on a loaded
        // machine never turns a plain MOVED or ASK into an error reply.
        var deadline: ContinuousClock.Instant?
        var round = 0
        var unreachable: (any Error)?
        while !pending.isEmpty {
            let (map, generation) = await snapshot()
            var groups: [RedisEndpoint: [Pending]] = [:]
            var next: [Pending] = []
            var waitBeforeNext = false
            var refreshBeforeNext = false
            for item in pending {
                if item.target == nil, routes[item.index] == .allMasters {
                    replies[item.index] = try await broadcast(commands[item.index], to: map.masters)
                    continue
                }
                let target: RedisEndpoint?
                if let redirected = item.target {
                    target = redirected
                } else if case .slot(let slot) = routes[item.index] {
                    target = map.master(forSlot: slot)
                } else {
                    target = map.masters.first ?? seeds.first
                }
                guard let target else {
                    // No master for the slot (yet): as good as CLUSTERDOWN.
                    replies[item.index] = .error("CLUSTERDOWN Hash slot not served")
                    next.append(item)
                    waitBeforeNext = true
                    refreshBeforeNext = true
                    continue
                }
                groups[target, default: []].append(item)
            }
            let outcomes = await withTaskGroup(of: (RedisEndpoint, [Pending], Result<[RedisReply], any Error>).self) { group in
                for (node, items) in groups {
                    var batch: [RedisCommand] = []
                    batch.reserveCapacity(items.count)
                    for item in items {
                        if item.asking { batch.append(RedisCommand("ASKING")) }
                        batch.append(commands[item.index])
                    }
                    group.addTask { [transport] in
                        do { return (node, items, .success(try await transport.send(batch, to: node))) } catch {
                            return (node, items, .failure(error))
                        }
                    }
                }
                var all: [(RedisEndpoint, [Pending], Result<[RedisReply], any Error>)] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            var lost: (any Error)?
            for (node, items, outcome) in outcomes {
                switch outcome {
                case .failure(let error):
                    if let error = error as? RedisError, error.notSent {
                        // Nothing ran: ask the cluster where the slots live now and go again.
                        unreachable = error
                        refreshBeforeNext = true
                        waitBeforeNext = true
                        next += items.map { Pending(index: $0.index) }
                    } else {
                        lost = error
                    }
                case .success(let answers):
                    var position = 0
                    for item in items {
                        if item.asking { position += 1 }  // ASKING's own OK
                        let reply = answers[position]
                        position += 1
                        replies[item.index] = reply
                        switch RedisClusterDisposition(reply: reply) {
                        case .final:
                            break
                        case .moved(let slot, let to):
                            let to = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                            state.withLock { $0.map.assign(slot: slot, to: to) }
                            refreshBeforeNext = true
                            next.append(Pending(index: item.index, target: to))
                        case .ask(_, let to):
                            let to = to.host.isEmpty ? RedisEndpoint(host: node.host, port: to.port) : to
                            next.append(Pending(index: item.index, target: to, asking: true))
                        case .retryLater:
                            waitBeforeNext = true
                            refreshBeforeNext = true
                            next.append(Pending(index: item.index))
                        }
                    }
                }
            }
            if let lost {
                // Whatever the cause, the map may be stale: the next caller routes afresh.
                Task { await self.refresh(after: generation) }
                throw lost
            }
            pending = next
            if pending.isEmpty { break }
            round += 1
            if waitBeforeNext, deadline == nil { deadline = clock.now + .milliseconds(retryMilliseconds) }
            if round >= maximumRounds || (waitBeforeNext && clock.now >= deadline!) {
                // Out of patience: unreachable nodes fail the batch as a connection failure;
                // redirections and CLUSTERDOWN that never settled are handed over as the error
                // replies they are.
                if let unreachable, pending.contains(where: { replies[$0.index] == nil }) { throw unreachable }
                break
            }
            if refreshBeforeNext { await refresh(after: generation) }
            if waitBeforeNext {
                let pause = Duration.milliseconds(min(25 << min(round, 4), 400))
                try? await Task.sleep(until: min(clock.now + pause, deadline!), clock: clock)
            }
        }
        return try replies.map {
            guard let reply = $0 else { throw unreachable ?? RedisError(code: .connectionFailure, message: "no node answered") }
            return reply
        }
    }

    /// Sends a command every master needs (`SCRIPT LOAD`, `FLUSHALL`) to each; the first error
    /// reply, else the first reply, stands for all.
    private func broadcast(_ command: RedisCommand, to masters: [RedisEndpoint]) async throws -> RedisReply {
        let nodes = masters.isEmpty ? [seeds[0]] : masters
        let replies = try await withThrowingTaskGroup(of: RedisReply.self) { group in
            for node in nodes {
                group.addTask { [transport] in try await transport.send([command], to: node)[0] }
            }
            var all: [RedisReply] = []
            for try await reply in group { all.append(reply) }
            return all
        }
        return replies.first { if case .error = $0 { true } else { false } } ?? replies[0]
    }
}
