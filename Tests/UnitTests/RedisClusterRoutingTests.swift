import Redis
import Synchronization
import Testing

/// The cluster router's state machine against a scripted transport: slot map, `MOVED`, `ASK`,
/// `TRYAGAIN`, unreachable masters and a failover. (Against a real cluster:
/// IntegrationTests/Clients/RedisClusterTests.)
@Suite struct RedisClusterRoutingTests {
    static let a = RedisEndpoint(host: "10.0.0.1", port: 7000)
    static let b = RedisEndpoint(host: "10.0.0.2", port: 7001)
    static let c = RedisEndpoint(host: "10.0.0.3", port: 7002)

    static func slotsReply(_ ranges: [(Int, Int, RedisEndpoint)]) -> RedisReply {
        .array(
            ranges.map { start, end, node in
                .array([.integer(start), .integer(end), .array([.bulk(Array(node.host.utf8)), .integer(node.port), .bulk(Array("id".utf8))])])
            })
    }

    /// A cluster of named nodes whose behaviour each test scripts; records what each node got.
    final class ScriptedCluster: RedisClusterTransport {
        struct State {
            var slots: RedisReply
            var down: Set<RedisEndpoint> = []
            var received: [(RedisEndpoint, [String])] = []
            /// Answers for a node's next data commands, consumed in order; afterwards "OK".
            var scripted: [RedisEndpoint: [RedisReply]] = [:]
        }
        let state: Mutex<State>

        init(slots: RedisReply) { state = Mutex(State(slots: slots)) }

        func send(_ commands: [RedisCommand], to node: RedisEndpoint) async throws -> [RedisReply] {
            try state.withLock { state in
                if state.down.contains(node) {
                    var error = RedisError(code: .connectionFailure, message: "connection refused")
                    error.notSent = true
                    throw error
                }
                state.received.append((node, commands.map(\.text)))
                return commands.map { command in
                    switch command.text {
                    case "CLUSTER SLOTS": return state.slots
                    case "ASKING": return .status("OK")
                    default:
                        if var queue = state.scripted[node], !queue.isEmpty {
                            let reply = queue.removeFirst()
                            state.scripted[node] = queue
                            return reply
                        }
                        return .bulk(Array("\(node.port)".utf8))
                    }
                }
            }
        }

        func dataCommands(to node: RedisEndpoint) -> [String] {
            state.withLock { $0.received.filter { $0.0 == node }.flatMap(\.1).filter { $0 != "CLUSTER SLOTS" } }
        }
    }

    static func threeShards() -> ScriptedCluster {
        ScriptedCluster(slots: slotsReply([(0, 5460, a), (5461, 10922, b), (10923, 16383, c)]))
    }

    /// The patience is a minute unless a test is about running out of it: a test that expects
    /// the router to wait and succeed must not fail because a loaded machine (the whole suite
    /// runs in parallel on two cores) delayed its sleeps past a short deadline.
    static func router(_ cluster: ScriptedCluster, retryMilliseconds: Int = 60_000) -> RedisClusterRouter<ScriptedCluster> {
        RedisClusterRouter(seeds: [a], transport: cluster, retryMilliseconds: retryMilliseconds)
    }

    @Test func slotMapIsReadFromClusterSlots() throws {
        var map = try RedisClusterMap(slotsReply: Self.slotsReply([(0, 5460, Self.a), (5461, 16383, Self.b)]), asked: Self.a)
        #expect(map.master(forSlot: 0) == Self.a)
        #expect(map.master(forSlot: 5461) == Self.b)
        #expect(map.coversAllSlots)
        map.assign(slot: 3, to: Self.c)
        #expect(map.master(forSlot: 3) == Self.c)
        #expect(map.master(forSlot: 4) == Self.a)
        let partial = try RedisClusterMap(slotsReply: Self.slotsReply([(0, 100, Self.a)]), asked: Self.a)
        #expect(!partial.coversAllSlots)
        #expect(partial.master(forSlot: 101) == nil)
        // An empty host is the node that was asked.
        let unnamed = try RedisClusterMap(slotsReply: Self.slotsReply([(0, 16383, RedisEndpoint(host: "", port: 7005))]), asked: Self.b)
        #expect(unnamed.master(forSlot: 9) == RedisEndpoint(host: Self.b.host, port: 7005))
    }

    @Test func repliesAreClassified() {
        #expect(
            RedisClusterDisposition(reply: .error("MOVED 3999 127.0.0.1:6381"))
                == .moved(slot: 3999, to: RedisEndpoint(host: "127.0.0.1", port: 6381)))
        #expect(
            RedisClusterDisposition(reply: .error("ASK 3999 127.0.0.1:6381")) == .ask(slot: 3999, to: RedisEndpoint(host: "127.0.0.1", port: 6381)))
        #expect(RedisClusterDisposition(reply: .error("MOVED 12 :7001")) == .moved(slot: 12, to: RedisEndpoint(host: "", port: 7001)))
        #expect(RedisClusterDisposition(reply: .error("TRYAGAIN Multiple keys request during rehashing of slot")) == .retryLater)
        #expect(RedisClusterDisposition(reply: .error("CLUSTERDOWN The cluster is down")) == .retryLater)
        #expect(RedisClusterDisposition(reply: .error("ERR wrong number of arguments")) == .final)
        #expect(RedisClusterDisposition(reply: .error("MOVED nonsense")) == .final)
        #expect(RedisClusterDisposition(reply: .integer(1)) == .final)
    }

    @Test func aBatchIsSplitByNodeAndAnsweredInOrder() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        // foo → 12182 (c), bar → 5061 (a), hello → 866 (a), {drop:1} → 6564 (b)
        let replies = try await router.pipeline([
            RedisCommand("GET", "foo"), RedisCommand("GET", "bar"), RedisCommand("GET", "{drop:1}:x"), RedisCommand("GET", "hello"),
        ])
        #expect(replies.map(\.string) == ["7002", "7000", "7001", "7000"])
        #expect(cluster.dataCommands(to: Self.a) == ["GET bar", "GET hello"], "one round trip per node, in order")
        #expect(cluster.dataCommands(to: Self.c) == ["GET foo"])
    }

    @Test func movedUpdatesTheMapAndResends() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        _ = try await router.pipeline([RedisCommand("PING")])
        // Slot 12182 (foo) moved from c to b; the cluster now says so too.
        cluster.state.withLock {
            $0.scripted[Self.c] = [.error("MOVED 12182 10.0.0.2:7001")]
            $0.slots = Self.slotsReply([(0, 5460, Self.a), (5461, 16383, Self.b)])
        }
        #expect(try await router.pipeline([RedisCommand("GET", "foo")]).map(\.string) == ["7001"])
        #expect(router.map.master(forSlot: 12182) == Self.b)
        #expect(router.map.master(forSlot: 16000) == Self.b, "a MOVED re-reads the whole map")
        #expect(try await router.pipeline([RedisCommand("GET", "foo")]).map(\.string) == ["7001"])
        #expect(cluster.dataCommands(to: Self.c) == ["GET foo"], "asked once, then never again")
    }

    @Test func askSendsAskingToTheImportingNodeWithoutChangingTheMap() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        cluster.state.withLock { $0.scripted[Self.c] = [.error("ASK 12182 10.0.0.1:7000")] }
        #expect(try await router.pipeline([RedisCommand("GET", "foo")]).map(\.string) == ["7000"])
        #expect(cluster.dataCommands(to: Self.a) == ["ASKING", "GET foo"])
        #expect(router.map.master(forSlot: 12182) == Self.c)
    }

    @Test func tryAgainWaitsAndResends() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        cluster.state.withLock {
            $0.scripted[Self.b] = [.error("TRYAGAIN Multiple keys request during rehashing of slot"), .error("CLUSTERDOWN The cluster is down")]
        }
        #expect(try await router.pipeline([RedisCommand("GET", "{drop:1}")]).map(\.string) == ["7001"])
        #expect(cluster.dataCommands(to: Self.b).count == 3)
    }

    /// A master dies; until its replica is promoted its slots are unreachable; the router keeps
    /// re-reading the map and lands on the new master.
    @Test func aDeadMasterIsReplacedByItsPromotedReplica() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        _ = try await router.pipeline([RedisCommand("PING")])
        let replica = RedisEndpoint(host: "10.0.0.4", port: 7003)
        cluster.state.withLock { _ = $0.down.insert(Self.c) }
        let promotion = Task {
            try await Task.sleep(for: .milliseconds(150))
            cluster.state.withLock { $0.slots = Self.slotsReply([(0, 5460, Self.a), (5461, 10922, Self.b), (10923, 16383, replica)]) }
        }
        #expect(try await router.pipeline([RedisCommand("GET", "foo"), RedisCommand("GET", "bar")]).map(\.string) == ["7003", "7000"])
        try await promotion.value
        #expect(router.map.master(forSlot: 12182) == replica)
    }

    @Test func anUnreachableSlotFailsAsAConnectionFailureOnceThePatienceIsSpent() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster, retryMilliseconds: 100)
        cluster.state.withLock { _ = $0.down.insert(Self.c) }
        let error = await #expect(throws: RedisError.self) { try await router.pipeline([RedisCommand("GET", "foo")]) }
        #expect(error?.code == .connectionFailure)
    }

    /// Answers lost after sending are not retried: the command may have run.
    @Test func aLostAnswerIsNotResent() async throws {
        final class Losing: RedisClusterTransport {
            let sends = Atomic<Int>(0)
            func send(_ commands: [RedisCommand], to node: RedisEndpoint) async throws -> [RedisReply] {
                if commands.first?.text == "CLUSTER SLOTS" {
                    return [RedisClusterRoutingTests.slotsReply([(0, 16383, RedisClusterRoutingTests.a)])]
                }
                sends.add(1, ordering: .relaxed)
                throw RedisError(code: .timeout, message: "timed out")
            }
        }
        let transport = Losing()
        let router = RedisClusterRouter(seeds: [Self.a], transport: transport, retryMilliseconds: 5000)
        await #expect(throws: RedisError.self) { try await router.pipeline([RedisCommand("INCR", "x")]) }
        #expect(transport.sends.load(ordering: .relaxed) == 1)
    }

    @Test func scriptLoadGoesToEveryMaster() async throws {
        let cluster = Self.threeShards()
        let router = Self.router(cluster)
        _ = try await router.pipeline([RedisCommand("SCRIPT", "LOAD", "return 1")])
        for node in [Self.a, Self.b, Self.c] {
            #expect(cluster.dataCommands(to: node) == ["SCRIPT LOAD return 1"])
        }
    }
}

extension RedisCommand {
    /// The arguments joined by spaces (test output only).
    var text: String { (0..<argumentCount).map { String(decoding: argumentBytes($0), as: UTF8.self) }.joined(separator: " ") }
}
