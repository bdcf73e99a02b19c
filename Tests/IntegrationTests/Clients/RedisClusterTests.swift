import Foundation
import Redis
import Testing

@testable import OpenRunGate

/// The Redis client in cluster mode against a real Redis Cluster (3 masters, 3 replicas, from
/// `scripts/cluster up --redis-only`): routing by slot, pipelines spread over the shards, `ASK`
/// and `MOVED` during a real slot migration, blocking commands, tagged scripts, and a master
/// killed with SIGKILL whose replica takes over.
@Suite(.serialized) struct RedisClusterTests {
    /// A plain client to one node (no routing), to look at where keys really are; with the
    /// cluster client's password.
    static func node(_ endpoint: RedisEndpoint, of redis: RedisClient) -> RedisClient {
        RedisClient(configuration: RedisConfiguration(host: endpoint.host, port: endpoint.port, password: redis.configuration.password))
    }

    @Test func routesMigratesAndSurvivesAMasterDying() async throws {
        try await withRedisCluster { cluster in
            let redis = RedisClient(configuration: cluster.configuration(), connections: 2, name: "cluster-test")
            defer { redis.shutdown() }

            // 1. A pipeline over keys of every shard: each answer in its place.
            let keys = (0..<300).map { "key-\($0)" }
            let sets = try await redis.pipeline(keys.map { RedisCommand("SET", $0, "value-" + $0) })
            #expect(sets.allSatisfy { $0 == .status("OK") })
            let gets = try await redis.pipeline(keys.map { RedisCommand("GET", $0) })
            #expect(gets.map(\.string) == keys.map { "value-" + $0 })
            let map = try #require(redis.clusterMap)
            #expect(map.masters.count == 3)
            #expect(map.coversAllSlots)
            for master in map.masters {
                let direct = Self.node(master, of: redis)
                defer { direct.shutdown() }
                #expect(try await direct.execute("DBSIZE").requireInt() > 50, "the keys are spread over the shards")
            }

            // 2. A gate's scripts: four keys, one tag, one shard.
            let gate = AdmissionGate(redis: redis, keyPrefix: "test:")
            try await gate.reconcile(.init(dropID: 7, phase: .open, isOpen: true, available: 1, buyers: []))
            #expect(try await gate.admit(dropID: 7, userID: 1) == .admitted)
            #expect(try await gate.admit(dropID: 7, userID: 2) == .soldOut)
            // Keys of two slots in one script are refused by the server: routing is real.
            let crossSlot = try await redis.send(RedisCommand("EVAL", "return redis.call('GET', KEYS[2])", 2, "{a}x", "{b}y"))
            #expect(crossSlot.string == nil)
            if case .error(let message) = crossSlot { #expect(message.hasPrefix("CROSSSLOT")) } else { Issue.record("expected CROSSSLOT") }

            // 3. Blocking commands follow the slot too.
            let blocking = RedisBlockingClient(configuration: cluster.configuration())
            defer { blocking.shutdown() }
            try await redis.execute("RPUSH", "{queue}:list", "job-1")
            #expect(try await blocking.blmove(from: "{queue}:list", to: "{queue}:landing", timeoutSeconds: 1) == Array("job-1".utf8))

            try await migrateASlot(redis: redis, map: map)
            try await killTheMasterOf("{drop:42}", redis: redis, cluster: cluster)
        }
    }

    /// Moves the slot of `{mig}` to another master by hand, as `redis-cli --cluster reshard`
    /// does: while it migrates, a new key is answered with `ASK`; once moved, `MOVED`.
    func migrateASlot(redis: RedisClient, map: RedisClusterMap) async throws {
        let slot = RedisClusterSlot.of("{mig}")
        let source = try #require(map.master(forSlot: slot))
        let destination = try #require(map.masters.first { $0 != source })
        let sourceClient = Self.node(source, of: redis)
        let destinationClient = Self.node(destination, of: redis)
        defer {
            sourceClient.shutdown()
            destinationClient.shutdown()
        }
        let sourceID = try #require(try await sourceClient.execute("CLUSTER", "MYID").string)
        let destinationID = try #require(try await destinationClient.execute("CLUSTER", "MYID").string)
        try await redis.execute("SET", "{mig}old", "before")
        try await destinationClient.execute("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID)
        try await sourceClient.execute("CLUSTER", "SETSLOT", slot, "MIGRATING", destinationID)
        // A key the source no longer has goes to the destination, announced by ASK.
        try await redis.execute("SET", "{mig}new", "during")
        #expect(try await destinationClient.pipeline([RedisCommand("ASKING"), RedisCommand("GET", "{mig}new")])[1].string == "during")
        // The source, asked directly, redirects: the key is not there.
        let onSource = try await sourceClient.send(RedisCommand("GET", "{mig}new"))
        #expect(onSource == .error("ASK \(slot) \(destination.host):\(destination.port)"))
        #expect(redis.clusterMap?.master(forSlot: slot) == source, "ASK does not change the map")
        // (The nodes ask for a password: MIGRATE gives it to the destination.)
        var migrate = RedisCommand("MIGRATE", destination.host, destination.port, "", 0, 5000)
        if let password = redis.configuration.password {
            migrate.append("AUTH")
            migrate.append(password)
        }
        migrate.append("KEYS")
        migrate.append("{mig}old")
        try await sourceClient.send(migrate).throwingError()
        for master in map.masters {
            let client = Self.node(master, of: redis)
            defer { client.shutdown() }
            try await client.execute("CLUSTER", "SETSLOT", slot, "NODE", destinationID)
        }
        #expect(try await redis.send(RedisCommand("GET", "{mig}old")).string == "before", "followed MOVED")
        #expect(redis.clusterMap?.master(forSlot: slot) == destination)
    }

    /// SIGKILL to the master owning a key's slot: once its replica is promoted, the client
    /// finds it and the key (replicated before the kill) is there.
    func killTheMasterOf(_ key: String, redis: RedisClient, cluster: ClusterServices) async throws {
        let slot = RedisClusterSlot.of(key)
        try await redis.execute("SET", key, "survives")
        let master = try #require(redis.clusterMap?.master(forSlot: slot))
        // Wait until a replica holds the write (replication is asynchronous).
        let replicas = cluster.seeds.filter { !(redis.clusterMap?.masters.contains($0) ?? true) }
        #expect(
            try await eventually(within: 10) {
                for replica in replicas {
                    let client = Self.node(replica, of: redis)
                    defer { client.shutdown() }
                    let replies = try? await client.pipeline([RedisCommand("READONLY"), RedisCommand("GET", key)])
                    if replies?[1].string == "survives" { return true }
                }
                return false
            })
        let killed = try await cluster.run(["kill", "redis-slot:\(slot)"])
        #expect(killed.contains(":\(master.port)"))
        // The first command may land on the dead master's socket (its answer lost, so it fails);
        // after that the router waits for the promotion, within its patience.
        var value: String?
        for _ in 0..<5 where value == nil {
            value = try? await redis.send(RedisCommand("GET", key)).throwingError().string
        }
        #expect(value == "survives")
        let promoted = try #require(redis.clusterMap?.master(forSlot: slot))
        #expect(promoted != master)
        try await redis.execute("SET", key, "after")
        #expect(try await redis.send(RedisCommand("GET", key)).string == "after")
    }
}
