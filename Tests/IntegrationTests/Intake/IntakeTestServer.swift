import CurlHTTP
import Foundation
import Intake
import Logging
import Postgres
import Redis
import ServiceLifecycle
import Settings
import ShopDomain
import Storage
import Synchronization
import Testing

/// An intake server running in-process on a free port, on a fresh database and its own Redis
/// key prefix, with helpers to call it over real HTTP and to set up data directly.
struct IntakeTestServer: Sendable {
    let service: IntakeService
    let baseURL: String
    let http: CurlHTTPClient
    /// The service's own pool, for setting up and checking data directly.
    var pool: PostgresPool { service.pool }
    var redis: RedisClient { service.redis }
    var keyPrefix: String { service.settings.redis.keyPrefix }

    static let jwtSecret = "integration-tests-secret-0123456789abcdef"
    static let callbackSecret = "integration-tests-provider-secret"

    /// Settings for a test instance: small pools (many tests run at once; the request pool's 5
    /// are 3 for requests and the 2 entry writers' batches), bcrypt at its minimum cost, any
    /// port; `overrides` win.
    static func settings(
        postgres: PostgresConfiguration, redis: RedisConfiguration, keyPrefix: String, overrides: [String: String]
    ) async throws -> ShopSettings {
        var values = [
            "postgres.host": postgres.host, "postgres.port": String(postgres.port),
            "postgres.database": postgres.database, "postgres.user": postgres.user,
            "postgres.pool_size": "5", "redis.host": redis.host, "redis.port": String(redis.port),
            "redis.connections": "1", "redis.key_prefix": keyPrefix, "http.port": "0",
            "auth.jwt_secret": jwtSecret, "auth.bcrypt_cost": "4", "entries.writers": "2",
            "payments.callback_secret": callbackSecret,
            "jobs.catalog": ShopProcess.repositoryRoot + "/jobs",
            // Patient waits for the stores: a loaded test machine must not turn slow answers
            // into 503s. The tests of hung stores set the production values.
            "postgres.reply_timeout_ms": "5000", "redis.command_timeout_ms": "5000",
            "postgres.acquire_timeout_ms": "10000",
            // Every test client connects from 127.0.0.1; the cap has its own test.
            "http.max_connections_per_address": "1000000",
        ]
        values.merge(overrides) { _, override in override }
        // Passwords are secrets: only the environment (or a file) may carry them.
        let passwords = ["FASTEST_SHOP_POSTGRES_PASSWORD": postgres.password, "FASTEST_SHOP_REDIS_PASSWORD": redis.password].compactMapValues { $0 }
        return try await ShopSettings.load(overrides: values, environment: passwords)
    }

    // MARK: calls

    func call(
        _ method: String, _ path: String, token: String? = nil, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> HTTPResponse {
        var allHeaders = headers.map { (name: $0.0, value: $0.1) }
        if let token { allHeaders.append((name: "Authorization", value: "Bearer \(token)")) }
        if body != nil { allHeaders.append((name: "Content-Type", value: "application/json")) }
        return try await http.execute(
            HTTPRequest(
                method: method, url: baseURL + path, headers: allHeaders, body: Array((body ?? "").utf8), timeoutMilliseconds: 30_000))
    }

    /// Calls until the answer is 201 (a store is back, the buyer may retry) or 100 tries, 200 ms
    /// apart, have passed; returns the last status.
    func callUntilCreated(_ method: String, _ path: String, token: String? = nil) async throws -> Int {
        var status = 0
        for _ in 0..<100 where status != 201 {
            status = try await call(method, path, token: token).status
            if status != 201 { try await Task.sleep(for: .milliseconds(200)) }
        }
        return status
    }

    /// `/readyz`'s status once it is `status` or 100 tries, 100 ms apart, have passed: readiness
    /// follows the stores through a background probe, a moment after they change.
    func readiness(becoming status: Int) async throws -> Int {
        var current = 0
        for _ in 0..<100 where current != status {
            current = try await call("GET", "/readyz").status
            if current != status { try await Task.sleep(for: .milliseconds(100)) }
        }
        return current
    }

    // MARK: data

    /// Accounts created directly in the database, with access tokens minted for them.
    func makeUsers(_ count: Int, role: Role = .customer) async throws -> [(id: Int, token: String)] {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let emails = (0..<count).map { EmailAddress("\(role.rawValue)-\(tag)-\($0)@example.com")! }
        let ids = try await UserStore(pool: pool).createMany(emails: emails, passwordHash: "not-a-login", role: role)
        var users: [(id: Int, token: String)] = []
        for id in ids { users.append((id, try await service.tokens.issue(for: AuthenticatedUser(id: id, role: role)))) }
        return users
    }

    func makeUser(role: Role = .customer) async throws -> (id: Int, token: String) {
        try await makeUsers(1, role: role)[0]
    }

    func makeProduct(name: String = "Sneaker", priceCents: Int = 12_000) async throws -> Product {
        try await ProductStore(pool: pool).create(try NewProduct(name: name, priceCents: priceCents, currency: "EUR"))
    }

    /// A drop created directly; by default an open draw closing in an hour.
    func makeDrop(
        kind: DropKind = .draw, stock: Int = 10, opensAt: Date = Date().addingTimeInterval(-60),
        closesAt: Date? = Date().addingTimeInterval(3600), maxTickets: Int? = nil
    ) async throws -> Drop {
        let product = try await makeProduct()
        let creator = try await makeUser(role: .operator)
        let new = try NewDrop(
            productID: product.id, kind: kind, stock: stock, opensAt: opensAt, closesAt: closesAt,
            maxTickets: maxTickets ?? (kind == .raffle ? 5 : nil), waitlistDepth: nil, now: Date())
        return try await DropStore(pool: pool).create(new, createdBy: creator.id).drop
    }

    /// The value of one sample of the Prometheus exposition; a sample that is absent or not a
    /// number fails the test (a check against 0 must not pass because the metric is missing).
    func metric(_ sample: String) async throws -> Double {
        let text = try await call("GET", "/metrics").bodyText
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return try #require(Double(line.dropFirst(sample.count + 1)), "\(line) is not a sample")
        }
        Issue.record("the exposition has no sample \(sample)")
        throw MissingMetric(sample: sample)
    }

    struct MissingMetric: Error { let sample: String }
}

/// Runs `body` against a fresh intake server; stops it afterwards.
func withIntakeServer<T: Sendable>(
    _ overrides: [String: String] = [:], _ body: (IntakeTestServer) async throws -> T
) async throws -> T {
    try await TestSlots.intakeServers.withSlot {
        try await withTestDatabase(poolSize: 1) { _, postgres in
            try await withRedisNamespace { _, prefix in
                let settings = try await IntakeTestServer.settings(
                    postgres: postgres, redis: try await TestServices.shared.redisConfiguration(), keyPrefix: prefix,
                    overrides: overrides)
                return try await runIntakeServer(settings: settings, body)
            }
        }
    }
}

/// Runs an intake server with these settings while `body` runs, then shuts it down gracefully.
func runIntakeServer<T: Sendable>(settings: ShopSettings, _ body: (IntakeTestServer) async throws -> T) async throws -> T {
    var logger = Logger(label: "intake-test")
    logger.logLevel = .warning
    let service = try await IntakeService(settings: settings, logger: logger)
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = try service.makeApplication { port in portContinuation.yield(port) }
    let group = ServiceGroup(services: [application], logger: logger)
    let running = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
    let http = CurlHTTPClient(name: "intake-test-http")
    let server = IntakeTestServer(service: service, baseURL: "http://127.0.0.1:\(port)", http: http)
    do {
        let value = try await body(server)
        http.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
        return value
    } catch {
        http.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension HTTPResponse {
    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// The `type` slug of a problem document.
    var problemSlug: String? {
        (json["type"] as? String).map { String($0.dropFirst("urn:fastest-shop:problem:".count)) }
    }
}
