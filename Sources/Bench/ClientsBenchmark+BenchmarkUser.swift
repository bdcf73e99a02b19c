import Foundation
import Redis

extension ClientsBenchmark {
    /// A Redis ACL user that exists only while `redis-benchmark` runs.
    ///
    /// redis-benchmark (7.0) reads no password from the environment (only redis-cli honours
    /// `REDISCLI_AUTH`), so whatever it authenticates with is on its command line, where `ps`
    /// shows it to every local user. It therefore never gets the deployment's password: it gets
    /// a random one of a user allowed nothing but the benchmark's own commands on its own key,
    /// deleted as soon as the measurement ends.
    struct BenchmarkUser: Sendable {
        let name: String
        let password: String

        /// `AUTH name password` on redis-benchmark's command line. (redis-benchmark, unlike
        /// redis-cli, has no `--no-auth-warning`: it refuses to start when given one.)
        var arguments: [String] { ["--user", name, "-a", password] }

        /// Creates the user through our own client (authenticated with the real password).
        /// Allowed: `SET` on the benchmark's key, `PING`, and the `CONFIG GET` redis-benchmark
        /// sends to show the server's settings.
        static func create(on redis: RedisConfiguration) async throws -> BenchmarkUser {
            let user = BenchmarkUser(
                name: "fastest-bench-" + UUID().uuidString.prefix(8).lowercased(),
                password: (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "") }.joined())
            let client = RedisClient(configuration: redis, name: "bench-redis-user")
            defer { client.shutdown() }
            try await client.execute(
                "ACL", "SETUSER", user.name, "reset", "on", ">" + user.password, "~" + ClientsBenchmark.benchmarkKey,
                "+set", "+ping", "+config|get")
            return user
        }

        func delete(on redis: RedisConfiguration) async throws {
            let client = RedisClient(configuration: redis, name: "bench-redis-user")
            defer { client.shutdown() }
            try await client.execute("ACL", "DELUSER", name)
        }
    }
}
