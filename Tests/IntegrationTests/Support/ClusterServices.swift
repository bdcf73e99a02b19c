import ChildProcesses
import Foundation
import LocalServices
import Postgres
import Redis

/// Stores of a test's own in the production shape, started by `scripts/cluster up --redis-only`
/// (a Redis Cluster: 3 masters, 3 replicas) or `--postgres-only` (a primary and a synchronous
/// standby) under `.fastest/scratch/`, stopped when the test ends (and by the script's watchdog
/// if this process dies first).
struct ClusterServices: Sendable {
    let directory: String
    let script: String
    let settings: [String: String]

    var seeds: [RedisEndpoint] {
        (settings["FASTEST_SHOP_REDIS_CLUSTER_NODES"] ?? "").split(separator: ",").compactMap(RedisEndpoint.init(parsing:))
    }

    /// Both PostgreSQL servers, as a multi-host configuration that finds the primary.
    var postgresConfiguration: PostgresConfiguration {
        PostgresConfiguration(
            database: "fastest_shop", user: "fastest", password: settings["FASTEST_SHOP_POSTGRES_PASSWORD"],
            applicationName: "fastest-shop-cluster-tests", connectTimeoutSeconds: 2,
            servers: (settings["FASTEST_SHOP_POSTGRES_HOSTS"] ?? "").split(separator: ",").compactMap(PostgresServer.init(parsing:)),
            targetSessionAttributes: "read-write")
    }

    func configuration(retryMilliseconds: Int = 15_000) -> RedisConfiguration {
        RedisConfiguration(
            host: seeds[0].host, port: seeds[0].port, password: settings["FASTEST_SHOP_REDIS_PASSWORD"],
            connectTimeoutMilliseconds: 1000, commandTimeoutMilliseconds: 5000,
            clusterSeeds: seeds, clusterRetryMilliseconds: retryMilliseconds)
    }

    /// `scripts/cluster ARGUMENTS --dir DIRECTORY`; its standard output.
    @discardableResult
    func run(_ arguments: [String]) async throws -> String {
        try await Self.run(script: script, arguments + ["--dir", directory])
    }

    static func run(script: String, _ arguments: [String]) async throws -> String {
        try await runBlocking {
            let completion = try ChildProcess.runToCompletion(
                executable: "/bin/bash", arguments: [script] + arguments, tiedToParent: false)
            guard completion.status == 0 else {
                throw ScratchServicesError(message: "scripts/cluster \(arguments.joined(separator: " ")) failed: \(completion.errorOutput)")
            }
            return completion.output
        }
    }
}

func withRedisCluster<T>(_ body: (ClusterServices) async throws -> T) async throws -> T {
    try await withClusterServices(only: "--redis-only", body)
}

func withPostgresStandby<T>(_ body: (ClusterServices) async throws -> T) async throws -> T {
    try await withClusterServices(only: "--postgres-only", body)
}

private func withClusterServices<T>(only: String, _ body: (ClusterServices) async throws -> T) async throws -> T {
    try await TestSlots.scratchServices.withSlot {
        let repository = URL(fileURLWithPath: try LocalServices().script).deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("scripts/cluster").path
        let directory = repository.appendingPathComponent(".fastest/scratch/cluster-\(UUID().uuidString.lowercased().prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output: String
        do {
            output = try await ClusterServices.run(script: script, ["up", only, "--dir", directory, "--owner", String(getpid())])
        } catch {
            _ = try? await ClusterServices.run(script: script, ["down", "--dir", directory])
            throw error
        }
        var settings: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let cluster = ClusterServices(directory: directory, script: script, settings: settings)
        do {
            let value = try await body(cluster)
            try await cluster.run(["down"])
            return value
        } catch {
            _ = try? await cluster.run(["down"])
            throw error
        }
    }
}
