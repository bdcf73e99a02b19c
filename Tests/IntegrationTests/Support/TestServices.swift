import Foundation
import LocalServices
import Postgres
import Redis
import Storage

/// The PostgreSQL and Redis every integration test talks to.
///
/// Taken from `FASTEST_SHOP_POSTGRES_*` / `FASTEST_SHOP_REDIS_*` when set (the test script sets
/// them), otherwise started with `scripts/services`. There is no fallback: when neither works the
/// test fails with the reason.
actor TestServices {
    static let shared = TestServices()

    private var settings: [String: String]?
    /// Migrates the template once; every caller awaits the same task. (A plain optional name
    /// is not enough: the actor is reentrant at each `await`, so parallel tests would all find it
    /// unset and race to create the same template.)
    private var templateDatabase: Task<String, any Error>?

    func connectionSettings() throws -> [String: String] {
        if let settings { return settings }
        let environment = ProcessInfo.processInfo.environment
        let resolved: [String: String]
        if environment["FASTEST_SHOP_POSTGRES_PORT"] != nil && environment["FASTEST_SHOP_REDIS_PORT"] != nil {
            resolved = environment.filter { $0.key.hasPrefix("FASTEST_SHOP_") }
        } else {
            resolved = try LocalServices().start()
        }
        settings = resolved
        return resolved
    }

    func postgresConfiguration(database: String? = nil) throws -> PostgresConfiguration {
        let settings = try connectionSettings()
        return PostgresConfiguration(
            host: settings["FASTEST_SHOP_POSTGRES_HOST"] ?? "127.0.0.1",
            port: Int(settings["FASTEST_SHOP_POSTGRES_PORT"]!)!,
            database: database ?? settings["FASTEST_SHOP_POSTGRES_DATABASE"] ?? "fastest_shop",
            user: settings["FASTEST_SHOP_POSTGRES_USER"] ?? "fastest",
            password: settings["FASTEST_SHOP_POSTGRES_PASSWORD"],
            applicationName: "fastest-shop-tests",
            // A whole suite connecting at once on a loaded machine can take longer than the
            // production default of 2 s; a test must not fail on that.
            connectTimeoutSeconds: 10)
    }

    func redisConfiguration() throws -> RedisConfiguration {
        let settings = try connectionSettings()
        return RedisConfiguration(
            host: settings["FASTEST_SHOP_REDIS_HOST"] ?? "127.0.0.1",
            port: Int(settings["FASTEST_SHOP_REDIS_PORT"]!)!,
            password: settings["FASTEST_SHOP_REDIS_PASSWORD"],
            connectTimeoutMilliseconds: 10_000)
    }

    /// A new database with every migration applied, copied from a template migrated once per run.
    func freshDatabase() async throws -> PostgresConfiguration {
        let template = try await migratedTemplate()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresPool(configuration: try postgresConfiguration(database: "postgres"), size: 1, name: "test-admin")
        defer { Task { await admin.shutdown() } }
        try await admin.query("CREATE DATABASE \(name) TEMPLATE \(template)")
        await admin.shutdown()
        return try postgresConfiguration(database: name)
    }

    func dropDatabase(_ name: String) async throws {
        let admin = PostgresPool(configuration: try postgresConfiguration(database: "postgres"), size: 1, name: "test-admin")
        try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.shutdown()
    }

    private func migratedTemplate() async throws -> String {
        if let templateDatabase { return try await templateDatabase.value }
        let administration = try postgresConfiguration(database: "postgres")
        let name = "fs_template_\(getpid())_\(Int(Date().timeIntervalSince1970))"
        let migration = Task {
            let admin = PostgresPool(configuration: administration, size: 1, name: "test-admin")
            // The services outlive test runs: drop the templates earlier runs left (one that is
            // in use by a run going on right now refuses, and stays).
            let stale = try await admin.query(
                "SELECT datname FROM pg_database WHERE datname LIKE 'fs\\_template\\_%'"
            ).map { try $0.string(0) }
            for database in stale { _ = try? await admin.query("DROP DATABASE IF EXISTS \(database)") }
            try await admin.query("CREATE DATABASE \(name)")
            await admin.shutdown()
            var configuration = administration
            configuration.database = name
            let pool = PostgresPool(configuration: configuration, size: 1, name: "test-migrate")
            try await Migrator().migrate(pool)
            // No session may stay connected to a template while it is copied.
            await pool.shutdown()
            return name
        }
        templateDatabase = migration
        return try await migration.value
    }
}

/// Runs `body` with a pool on a fresh migrated database, then drops the database.
func withTestDatabase<T>(
    poolSize: Int = 4,
    _ body: (PostgresPool, PostgresConfiguration) async throws -> T
) async throws -> T {
    let configuration = try await TestServices.shared.freshDatabase()
    let pool = PostgresPool(configuration: configuration, size: poolSize, name: "test")
    do {
        let value = try await body(pool, configuration)
        await pool.shutdown()
        try await TestServices.shared.dropDatabase(configuration.database)
        return value
    } catch {
        await pool.shutdown()
        try? await TestServices.shared.dropDatabase(configuration.database)
        throw error
    }
}

/// A Redis key prefix no other test uses; keys under it are deleted afterwards.
func withRedisNamespace<T>(_ body: (RedisClient, String) async throws -> T) async throws -> T {
    let client = RedisClient(configuration: try await TestServices.shared.redisConfiguration())
    let prefix = "test:\(UUID().uuidString.prefix(8)):"
    defer { client.shutdown() }
    let value = try await body(client, prefix)
    var cursor = "0"
    repeat {
        let reply = try await client.send(RedisCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 1000)).requireArray()
        cursor = reply[0].string ?? "0"
        let keys = reply[1].array?.compactMap(\.string) ?? []
        if !keys.isEmpty { _ = try await client.send(RedisCommand("DEL", keys)) }
    } while cursor != "0"
    return value
}
