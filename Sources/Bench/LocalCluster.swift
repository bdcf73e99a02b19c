import BlockingThreads
import ChildProcesses
import Foundation
import LocalServices
import Postgres
import Redis

/// A cluster of `scripts/cluster up` for a benchmark: under `.fastest/cluster-NAME-*`, tied to
/// this process (`--owner`), stopped by ``down(keepLogs:)``.
public struct LocalCluster: Sendable {
    public let script: String
    public let directory: String
    /// What `up` printed: the FASTEST_SHOP_* settings of the cluster's clients.
    public let environment: [String: String]

    /// `scripts/cluster up` with `options` (`--redis-only`, `--binary PATH`, …).
    public static func up(name: String, options: [String]) async throws -> LocalCluster {
        let repository = URL(fileURLWithPath: try LocalServices().script).deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("scripts/cluster").path
        let directory = repository.appendingPathComponent(".fastest/cluster-\(name)-\(UUID().uuidString.lowercased().prefix(8))").path
        let output: String
        do {
            output = try await run(script: script, ["up", "--owner", String(getpid())] + options + ["--dir", directory])
        } catch {
            _ = try? await run(script: script, ["down", "--dir", directory])
            throw error
        }
        var environment: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return LocalCluster(script: script, directory: directory, environment: environment)
    }

    /// `scripts/cluster ARGUMENTS` on this cluster; its standard output.
    @discardableResult
    public func run(_ arguments: [String]) async throws -> String {
        try await Self.run(script: script, arguments + ["--dir", directory])
    }

    /// Stops everything; deletes the directory unless its logs are wanted.
    public func down(keepLogs: Bool = false) async {
        _ = try? await run(["down"])
        if !keepLogs { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The pid `scripts/cluster` recorded for a component.
    public func pid(of component: String) -> String? {
        (try? String(contentsOfFile: directory + "/pids/\(component).pid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The Redis Cluster's client configuration.
    public var redisConfiguration: RedisConfiguration {
        let seeds = (environment["FASTEST_SHOP_REDIS_CLUSTER_NODES"] ?? "").split(separator: ",").compactMap(RedisEndpoint.init(parsing:))
        return RedisConfiguration(
            host: seeds.first?.host ?? "127.0.0.1", port: seeds.first?.port ?? 6379,
            password: environment["FASTEST_SHOP_REDIS_PASSWORD"], clusterSeeds: seeds)
    }

    /// The primary and its standby, as libpq's multi-host string that finds the primary.
    public var postgresConfiguration: PostgresConfiguration {
        PostgresConfiguration(
            database: "fastest_shop", user: "fastest", password: environment["FASTEST_SHOP_POSTGRES_PASSWORD"],
            applicationName: "fastest-shop-bench", connectTimeoutSeconds: 2,
            servers: (environment["FASTEST_SHOP_POSTGRES_HOSTS"] ?? "").split(separator: ",").compactMap(PostgresServer.init(parsing:)))
    }

    static func run(script: String, _ arguments: [String]) async throws -> String {
        try await DetachedThread.value(name: "scripts-cluster") {
            let completion = try ChildProcess.runToCompletion(
                executable: "/bin/bash", arguments: [script] + arguments, tiedToParent: false)
            guard completion.status == 0 else {
                throw BenchFailure("scripts/cluster \(arguments.joined(separator: " ")) failed: \(completion.errorOutput)")
            }
            return completion.output
        }
    }
}
