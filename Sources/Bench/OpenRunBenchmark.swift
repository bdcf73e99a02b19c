import ChildProcesses
import Foundation
import Intake
import NIOCore
import OpenRunGate
import Postgres
import Redis
import ShopDomain
import Synchronization

/// `bench open-run`: N distinct buyers rush an open-run of S units at once, against `serve`
/// subprocesses: one with the admission gate, one with the classic design (one `FOR UPDATE`
/// transaction per request), on the same database, with the same load generator.
public enum OpenRunBenchmark {
    public struct Parameters: Sendable {
        public var buyers: Int
        public var stock: Int
        /// The `fastest-shop` binary to run `serve` from.
        public var executable: String

        public init(buyers: Int, stock: Int, executable: String) {
            self.buyers = buyers
            self.stock = stock
            self.executable = executable
        }
    }

    public struct Result: Codable, Sendable {
        public let buyers: Int
        public let stock: Int
        public let orders: Int
        public let sold_out: Int
        public let oversold: Int
        public let other_answers: Int
        public let wall_s: Double
        public let p50_ms: Double
        public let p99_ms: Double
        public let baseline_wall_s: Double
        public let baseline_orders: Int
        public let baseline_oversold: Int
        public let baseline_p99_ms: Double
        public let ratio: Double
    }

    struct Rush {
        var created = 0
        var soldOut = 0
        var other = 0
        /// One unexpected answer, to say what went wrong.
        var sampleOther: String?
        var wallSeconds = 0.0
        var latencies: [Double] = []
        var ordersInDatabase = 0
    }

    public static func run(
        _ parameters: Parameters, postgres: PostgresConfiguration, redis configuration: RedisConfiguration,
        keyPrefix: String, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        try await BenchDatabase.with(postgres: postgres, poolSize: 4, redis: configuration) { database, redis in
            try await measure(
                parameters, database: database, redis: redis, redisConfiguration: configuration, keyPrefix: keyPrefix,
                progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, database: BenchDatabase, redis: RedisClient, redisConfiguration: RedisConfiguration,
        keyPrefix: String, progress: @Sendable (String) -> Void
    ) async throws -> Result {
        let secret = UUID().uuidString + UUID().uuidString
        // Buyers, and as many again for warming each server up (a running server has served
        // requests before a drop opens; a fresh process has cold caches and unloaded scripts).
        let warmUps = min(parameters.buyers, 2000)
        progress("creating \(parameters.buyers + warmUps) customers and their tokens")
        let customers = try await database.insertCustomers(parameters.buyers + warmUps)
        let tokens = await AccessTokens(secret: secret, lifetimeSeconds: 3600)
        var allBearer: [String] = []
        allBearer.reserveCapacity(customers.count)
        for customer in customers {
            allBearer.append("Bearer " + (try await tokens.issue(for: AuthenticatedUser(id: customer, role: .customer))))
        }
        let bearer = Array(allBearer.prefix(parameters.buyers))
        let warmUpBearer = Array(allBearer.suffix(warmUps))
        let product = try await database.insertProduct()
        func openRun(status: String = "open") async throws -> Int {
            try await database.pool.query(
                """
                INSERT INTO drops (product_id, kind, status, stock, available, opens_at)
                VALUES ($1, 'open_run', $3, $2, $2, now() - interval '1 minute') RETURNING id
                """, [.int(product), .int(parameters.stock), .text(status)])[0].int(0)
        }
        // Refused with not-open: the warm-up buys nothing.
        let warmUpDrop = try await openRun(status: "scheduled")
        let prefix = keyPrefix + "bench:openrun:\(UUID().uuidString.prefix(8)):"

        progress("rush through the admission gate")
        let gated = try await openRun()
        // What the scheduler does when the drop opens.
        try await AdmissionGate(redis: redis, keyPrefix: prefix).reconcile(
            AdmissionGate.Snapshot(dropID: gated, phase: .open, isOpen: true, available: parameters.stock, buyers: []))
        let gate = try await rush(
            parameters, strategy: "gate", dropID: gated, bearer: bearer, warmUp: (warmUpDrop, warmUpBearer),
            secret: secret, database: database, redis: redisConfiguration, prefix: prefix, progress: progress)

        progress("rush through the classic design (one FOR UPDATE transaction per request)")
        let classicDrop = try await openRun()
        let classic = try await rush(
            parameters, strategy: "classic", dropID: classicDrop, bearer: bearer, warmUp: (warmUpDrop, warmUpBearer),
            secret: secret, database: database, redis: redisConfiguration, prefix: prefix, progress: progress)
        try await QueueBenchmark.deleteKeys(redis, prefix: prefix)

        let sorted = gate.latencies.sorted()
        return Result(
            buyers: parameters.buyers, stock: parameters.stock, orders: gate.created, sold_out: gate.soldOut,
            oversold: max(0, gate.ordersInDatabase - parameters.stock), other_answers: gate.other,
            wall_s: rounded(gate.wallSeconds), p50_ms: percentile(sorted, 0.5), p99_ms: percentile(sorted, 0.99),
            baseline_wall_s: rounded(classic.wallSeconds), baseline_orders: classic.created,
            baseline_oversold: max(0, classic.ordersInDatabase - parameters.stock),
            baseline_p99_ms: percentile(classic.latencies.sorted(), 0.99),
            ratio: rounded(classic.wallSeconds / gate.wallSeconds, 1))
    }

    /// Starts `serve` with the strategy, opens one connection per buyer, then sends every
    /// purchase at once and waits for every answer.
    static func rush(
        _ parameters: Parameters, strategy: String, dropID: Int, bearer: [String], warmUp: (dropID: Int, bearer: [String]),
        secret: String,
        database: BenchDatabase, redis: RedisConfiguration, prefix: String, progress: @Sendable (String) -> Void
    ) async throws -> Rush {
        let server = try ServeProcess(
            executable: parameters.executable,
            environment: ServeProcess.storesEnvironment(database: database, redis: redis, prefix: prefix).merging([
                "FASTEST_SHOP_AUTH_JWT_SECRET": secret,
                "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET": UUID().uuidString,
                "FASTEST_SHOP_HTTP_PORT": "0",
                "FASTEST_SHOP_OPEN_RUN_STRATEGY": strategy,
                // One address sends everything; per-address limits would measure themselves.
                "FASTEST_SHOP_LIMITS_IP_PER_S": "10000000",
                "FASTEST_SHOP_LIMITS_IP_BURST": "100000000",
                // Every buyer's connection comes from this one machine.
                "FASTEST_SHOP_HTTP_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
                "FASTEST_SHOP_LOG_LEVEL": "warning",
            ]) { _, new in new })
        defer { server.stop() }
        let baseURL = try await server.waitForURL()
        guard let portText = baseURL.split(separator: ":").last, let port = Int(portText) else {
            throw BenchmarkError("serve announced no port: \(baseURL)")
        }
        let load = HTTPLoadGenerator(host: "127.0.0.1", port: port, threads: 2)
        defer { Task { await load.shutdown() } }

        // Connections first (not measured): every buyer is connected when the drop opens.
        progress("\(strategy): opening \(parameters.buyers) connections")
        let channels = try await load.connect(count: parameters.buyers)
        defer { for channel in channels { channel.close(promise: nil) } }
        func purchase(_ drop: Int, _ token: String) -> [UInt8] {
            HTTPLoadGenerator.request(method: "POST", path: "/v1/drops/\(drop)/purchase", host: "127.0.0.1", headers: [("Authorization", token)])
        }
        let requests = bearer.map { purchase(dropID, $0) }

        progress("\(strategy): warming the server up with \(warmUp.bearer.count) refused purchases")
        try await load.closingOnTimeout(channels) {
            let warming = load.sendAll(warmUp.bearer.map { purchase(warmUp.dropID, $0) }, on: channels)
            for answer in warming where try await answer.get().status != 409 {
                throw BenchmarkError("\(strategy): a warm-up purchase was not refused as not-open")
            }
        }

        progress("\(strategy): \(parameters.buyers) purchases at once")
        var result = Rush()
        result.latencies.reserveCapacity(parameters.buyers)
        let start = ContinuousClock.now
        let responses = try await load.closingOnTimeout(channels) {
            var responses: [HTTPLoadGenerator.Answer] = []
            responses.reserveCapacity(requests.count)
            for answer in load.sendAll(requests, on: channels) { responses.append(try await answer.get()) }
            return responses
        }
        result.wallSeconds = start.duration(to: .now).seconds
        for response in responses {
            result.latencies.append(Double(response.nanoseconds) / 1e6)
            let soldOut = response.status == 409 && response.body.contains("problem:sold-out")
            if response.status == 201 {
                result.created += 1
            } else if soldOut {
                result.soldOut += 1
            } else {
                result.other += 1
                if result.sampleOther == nil { result.sampleOther = "\(response.status) \(response.body.prefix(200))" }
            }
        }
        if let sample = result.sampleOther {
            progress("\(strategy): \(result.other) unexpected answers, e.g. \(sample)")
        }
        result.ordersInDatabase = try await database.pool.query(
            "SELECT count(*) FROM orders WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        return result
    }
}

/// `fastest-shop serve` as a child process; its address is read from its first stdout line.
final class ServeProcess: Sendable {
    private let child: ChildProcess
    private let output: URL

    var pid: pid_t { child.pid }

    init(executable: String, environment: [String: String]) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-serve-\(UUID().uuidString).log")
        child = try ChildProcess(
            executable: executable, arguments: ["serve"],
            environment: ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") }
                .merging(environment) { _, new in new },
            standardOutput: .file(output.path), standardError: .file(output.path))
    }

    /// The settings that point a `serve` at the bench's database and Redis (under `prefix`).
    static func storesEnvironment(database: BenchDatabase, redis: RedisConfiguration, prefix: String) -> [String: String] {
        [
            "FASTEST_SHOP_POSTGRES_HOST": database.configuration.host,
            "FASTEST_SHOP_POSTGRES_PORT": String(database.configuration.port),
            "FASTEST_SHOP_POSTGRES_DATABASE": database.configuration.database,
            "FASTEST_SHOP_POSTGRES_USER": database.configuration.user,
            "FASTEST_SHOP_POSTGRES_PASSWORD": database.configuration.password ?? "",
            "FASTEST_SHOP_REDIS_HOST": redis.host,
            "FASTEST_SHOP_REDIS_PORT": String(redis.port),
            "FASTEST_SHOP_REDIS_PASSWORD": redis.password ?? "",
            "FASTEST_SHOP_REDIS_KEY_PREFIX": prefix,
        ]
    }

    func waitForURL() async throws -> String {
        let prefix = "serve: listening on "
        for _ in 0..<600 {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            guard child.isRunning else { throw BenchmarkError("serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError("serve did not start")
    }

    /// SIGTERM, up to 10 s to stop, then SIGKILL. Synchronous, for `defer`.
    func stop() {
        child.send(SIGTERM)
        for _ in 0..<200 where child.isRunning { usleep(50_000) }
        child.kill()
        try? FileManager.default.removeItem(at: output)
    }
}
