import Foundation
import Postgres
import Redis
import Testing

/// `bench clients` runs redis-benchmark, whose command line every local account can read in
/// `ps`: the deployment's Redis password must never be on it.
@Suite struct BenchClientsPasswordTests {
    @Test func redisBenchmarkNeverSeesTheDeploymentPassword() async throws {
        var environment = try await TestServices.shared.connectionSettings()
        let password = try #require(environment["FASTEST_SHOP_REDIS_PASSWORD"], "the test Redis has a password")
        let database = try await TestServices.shared.freshDatabase()
        defer { Task { try? await TestServices.shared.dropDatabase(database.database) } }
        environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database

        // A redis-benchmark first on PATH that writes down its arguments, then runs the real one.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-path-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let real = try #require(
            ["/usr/bin/redis-benchmark", "/usr/local/bin/redis-benchmark"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let record = directory + "/arguments"
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '\(record)'\nexec '\(real)' \"$@\"\n".write(
            toFile: directory + "/redis-benchmark", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/redis-benchmark")
        environment["PATH"] = directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

        let bench = try ShopProcess(
            ["bench", "clients", "--requests", "2000", "--rows", "100", "--rounds", "1", "--json"], environment: environment)
        #expect(try await bench.waitForExit(timeout: 300) == 0, "log: \(bench.output)")

        let arguments = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(arguments.contains("set"), "redis-benchmark ran: \(arguments)")
        #expect(!arguments.contains { $0.contains(password) }, "the deployment's password is on redis-benchmark's command line")
        // Its throwaway account is gone afterwards.
        let redis = RedisClient(configuration: try await TestServices.shared.redisConfiguration(), name: "bench-user-probe")
        defer { redis.shutdown() }
        let users = try await redis.send(RedisCommand("ACL", "USERS")).requireArray().compactMap(\.string)
        #expect(!users.contains { $0.hasPrefix("fastest-bench-") }, "users left: \(users)")
    }
}
