import Foundation
import Postgres
import Redis
import Storage

/// A fresh, migrated database for one benchmark run on the configured server, dropped after.
/// Benchmarks load hundreds of thousands of rows; they must not leave them in anyone's database.
struct BenchDatabase {
    let configuration: PostgresConfiguration
    let pool: PostgresPool

    /// Runs `body` with a fresh database and a Redis client, and drops the database afterwards
    /// whatever happens.
    static func with<T>(
        postgres server: PostgresConfiguration, poolSize: Int, redis: RedisConfiguration, redisConnections: Int = 1,
        _ body: (BenchDatabase, RedisClient) async throws -> T
    ) async throws -> T {
        let database = try await create(on: server, poolSize: poolSize)
        let client = RedisClient(configuration: redis, connections: redisConnections)
        defer { client.shutdown() }
        do {
            let value = try await body(database, client)
            await database.drop()
            return value
        } catch {
            await database.drop()
            throw error
        }
    }

    static func create(on server: PostgresConfiguration, poolSize: Int) async throws -> BenchDatabase {
        let name = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        var admin = server
        admin.database = "postgres"
        let adminPool = PostgresPool(configuration: admin, size: 1, name: "bench-admin")
        try await adminPool.query("CREATE DATABASE \(name)")
        await adminPool.shutdown()
        var configuration = server
        configuration.database = String(name)
        configuration.statementTimeoutMilliseconds = 0
        let pool = PostgresPool(configuration: configuration, size: poolSize, name: "bench")
        try await Migrator().migrate(pool)
        return BenchDatabase(configuration: configuration, pool: pool)
    }

    func drop() async {
        await pool.shutdown()
        var admin = configuration
        admin.database = "postgres"
        let adminPool = PostgresPool(configuration: admin, size: 1, name: "bench-admin")
        _ = try? await adminPool.query("DROP DATABASE IF EXISTS \(configuration.database) WITH (FORCE)")
        await adminPool.shutdown()
    }

    /// `count` customers inserted with COPY; returns their ids in ascending order.
    func insertCustomers(_ count: Int) async throws -> [Int] {
        let tag = UUID().uuidString.prefix(8).lowercased()
        return try await pool.withConnection { connection in
            try connection.copyIn("COPY users (email, password_hash, role) FROM STDIN") { writer in
                for index in 0..<count {
                    try writer.write("b\(index)-\(tag)@bench.example\tnot-a-login\tcustomer\n")
                }
            }
            return try connection.query(
                "SELECT id FROM users WHERE email LIKE $1 ORDER BY id", [.text("%-\(tag)@bench.example")]
            ).map { try $0.int(0) }
        }
    }

    func insertProduct() async throws -> Int {
        try await pool.query(
            "INSERT INTO products (name, price_cents, currency) VALUES ('Bench runner', 15000, 'EUR') RETURNING id")[0].int(0)
    }
}

/// Rounds to `places` decimals for reporting.
func rounded(_ value: Double, _ places: Int = 3) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}
