import CurlHTTP
import Foundation
import Intake
import Postgres
import Redis
import ShopDomain
import Storage
import Testing

/// A whole deployment as real processes — `serve`, `scheduler`, workers and `mock-payments` —
/// on one fresh database and one Redis namespace.
final class ShopStack: @unchecked Sendable {
    static let jwtSecret = "end-to-end-tests-jwt-secret-0123456789"
    static let paymentsSecret = "end-to-end-tests-payments-secret"
    static let callbackSecret = "end-to-end-tests-provider-secret"

    let pool: PostgresPool
    let redis: RedisClient
    let redisPrefix: String
    private(set) var environment: [String: String]
    private(set) var processes: [ShopProcess] = []
    private(set) var apiURL = ""
    private(set) var mockURL = ""
    let http = CurlHTTPClient(name: "stack-http", maxIdleConnections: 2048)
    let catalogDirectory: String

    init(
        pool: PostgresPool, database: PostgresConfiguration, redis: RedisClient, redisPrefix: String,
        scratchRedis: ScratchServices? = nil, settings: [String: String] = [:]
    ) async throws {
        self.pool = pool
        self.redis = redis
        self.redisPrefix = redisPrefix
        var environment = try await TestServices.shared.connectionSettings()
        environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database
        if let scratchRedis { environment.merge(scratchRedis.redisEnvironment) { _, scratch in scratch } }
        environment["FASTEST_SHOP_REDIS_KEY_PREFIX"] = redisPrefix
        environment["FASTEST_SHOP_AUTH_JWT_SECRET"] = Self.jwtSecret
        environment["FASTEST_SHOP_PAYMENTS_SECRET"] = Self.paymentsSecret
        environment["FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET"] = Self.callbackSecret
        environment.merge(SchedulerPace.environment) { _, pace in pace }
        environment["FASTEST_SHOP_POSTGRES_POOL_SIZE"] = "4"
        environment["FASTEST_SHOP_LIMITS_IP_PER_S"] = "1000000"
        environment["FASTEST_SHOP_LIMITS_IP_BURST"] = "1000000"
        environment["FASTEST_SHOP_HTTP_PORT"] = "0"
        environment["FASTEST_SHOP_LOG_LEVEL"] = "info"
        // Patient waits for the stores (see IntakeTestServer.settings).
        environment["FASTEST_SHOP_POSTGRES_REPLY_TIMEOUT_MS"] = "5000"
        environment["FASTEST_SHOP_POSTGRES_ACQUIRE_TIMEOUT_MS"] = "10000"
        environment["FASTEST_SHOP_HTTP_MAX_CONNECTIONS_PER_ADDRESS"] = "1000000"
        environment["FASTEST_SHOP_REDIS_COMMAND_TIMEOUT_MS"] = "5000"
        // The repository's job kinds with visibility timeouts of 3 s, so rescues after a crash
        // happen within a test's patience.
        catalogDirectory = ShopProcess.repositoryRoot + "/.fastest/test-catalog-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: catalogDirectory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: ShopProcess.repositoryRoot + "/jobs") where file.hasSuffix(".json") {
            let text = try String(contentsOfFile: ShopProcess.repositoryRoot + "/jobs/" + file, encoding: .utf8)
                .replacingOccurrences(of: #""visibility_timeout_s": [0-9.]+"#, with: "\"visibility_timeout_s\": 3", options: .regularExpression)
                .replacingOccurrences(of: #""backoff_cap_ms": [0-9]+"#, with: "\"backoff_cap_ms\": 1000", options: .regularExpression)
                .replacingOccurrences(of: #""backoff_base_ms": [0-9]+"#, with: "\"backoff_base_ms\": 100", options: .regularExpression)
            try text.write(toFile: catalogDirectory + "/" + file, atomically: true, encoding: .utf8)
        }
        environment["FASTEST_SHOP_JOBS_CATALOG"] = catalogDirectory
        environment.merge(settings.mapKeys { "FASTEST_SHOP_" + $0.uppercased().replacingOccurrences(of: ".", with: "_") }) { _, new in new }
        self.environment = environment
    }

    /// `fastest-shop serve` on a free port.
    func startServe() async throws {
        let serve = try ShopProcess(["serve"], environment: environment)
        processes.append(serve)
        apiURL = try await serve.announcedURL(prefix: "serve: listening on ")
    }

    /// `fastest-shop mock-payments` on a free port, calling back to `serve`; start `serve` first.
    func startMockPayments(_ flags: [String]) async throws {
        let mock = try ShopProcess(
            ["mock-payments", "--port", "0", "--callback-url", apiURL + "/v1/payments/callback"] + flags, environment: environment)
        processes.append(mock)
        mockURL = try await mock.announcedURL(prefix: "mock-payments: listening on ")
        environment["FASTEST_SHOP_PAYMENTS_URL"] = mockURL + "/v1/charges"
    }

    @discardableResult
    func startScheduler() throws -> ShopProcess {
        let scheduler = try ShopProcess(["scheduler"], environment: environment)
        processes.append(scheduler)
        return scheduler
    }

    @discardableResult
    func startWorker(crashAt: String? = nil, concurrency: Int = 8) throws -> ShopProcess {
        var environment = environment
        if let crashAt { environment["FASTEST_SHOP_CRASH_AT"] = crashAt }
        let worker = try ShopProcess(["worker", "--queues", "drops,payments", "--concurrency", String(concurrency)], environment: environment)
        processes.append(worker)
        return worker
    }

    /// Runs a one-shot command (`audit`, `verify`, …) to its end; returns its status and output.
    func command(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try ShopProcess(arguments, environment: environment)
        let status = try await process.waitForExit(timeout: 120)
        return (status, process.output)
    }

    /// Customers (or operators) created in the database, with tokens signed by `serve`'s key.
    func users(_ count: Int, role: Role = .customer) async throws -> [(id: Int, token: String)] {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let emails = (0..<count).map { EmailAddress("\(role.rawValue)-\(tag)-\($0)@example.com")! }
        let ids = try await UserStore(pool: pool).createMany(emails: emails, passwordHash: "not-a-login", role: role)
        let tokens = await AccessTokens(secret: Self.jwtSecret, lifetimeSeconds: 3600)
        var users: [(id: Int, token: String)] = []
        for id in ids { users.append((id, try await tokens.issue(for: AuthenticatedUser(id: id, role: role)))) }
        return users
    }

    func call(_ method: String, _ path: String, token: String? = nil, body: String? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try await http.execute(
            HTTPRequest(
                method: method, url: apiURL + path, headers: headers, body: Array((body ?? "").utf8), timeoutMilliseconds: 60_000))
    }

    func mockStats() async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(url: mockURL + "/v1/stats"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    func stop() async {
        for process in processes.reversed() where process.isRunning {
            _ = try? await process.terminate(timeout: 20)
        }
        http.shutdown()
        try? FileManager.default.removeItem(atPath: catalogDirectory)
    }
}

/// Runs `body` with a stack on a fresh database and Redis namespace, then stops every process.
func withShopStack<T>(
    settings: [String: String] = [:], _ body: (ShopStack) async throws -> T
) async throws -> T {
    try await TestSlots.heavy.withSlot {
        try await withTestDatabase(poolSize: 4) { pool, database in
            try await withRedisNamespace { redis, prefix in
                let stack = try await ShopStack(pool: pool, database: database, redis: redis, redisPrefix: prefix, settings: settings)
                do {
                    let value = try await body(stack)
                    await stack.stop()
                    return value
                } catch {
                    for process in stack.processes where !process.output.isEmpty {
                        print("---- \(process.arguments.joined(separator: " ")) ----\n\(process.output.suffix(3000))")
                    }
                    await stack.stop()
                    throw error
                }
            }
        }
    }
}

extension ShopProcess {
    /// Waits for the line `prefix + URL` in the process's output and returns the URL.
    func announcedURL(prefix: String, timeout: Double = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            guard isRunning else { throw ShopProcessError(message: "\(arguments.first ?? "") exited: \(output)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ShopProcessError(message: "\(arguments.first ?? "") did not announce its address: \(output)")
    }
}

extension Dictionary {
    fileprivate func mapKeys<K: Hashable>(_ transform: (Key) -> K) -> [K: Value] {
        [K: Value](uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}

extension HTTPResponse {
    var jsonObject: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
}
