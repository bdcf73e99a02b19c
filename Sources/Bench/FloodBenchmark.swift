import ChildProcesses
import CurlHTTP
import Foundation
import Intake
import Postgres
import Redis
import ShopDomain
import Storage
import Synchronization

/// `bench flood`: the issue-16 login flood against a `serve` subprocess with production limits
/// and bcrypt cost: wrong-password logins from one address and, spread over many addresses, at
/// one email, while real customers (each from an address of their own) log in and enter a draw.
/// The same customers first do the same without the flood, in the same run: the baseline.
///
/// Loopback addresses stand for distinct clients: every 127.x.y.z is this machine, and the
/// client binds its connections to one (`HTTPRequest.localAddress`).
public enum FloodBenchmark {
    public struct Parameters: Sendable {
        public var singleAddressLogins: Int
        public var spreadLogins: Int
        public var spreadAddresses: Int
        public var customers: Int
        /// Requests the single-address attacker keeps in flight.
        public var attackConcurrency: Int
        public var executable: String

        public init(
            singleAddressLogins: Int = 20_000, spreadLogins: Int = 5_000, spreadAddresses: Int = 50, customers: Int = 100,
            attackConcurrency: Int = 64, executable: String
        ) {
            self.singleAddressLogins = singleAddressLogins
            self.spreadLogins = spreadLogins
            self.spreadAddresses = spreadAddresses
            self.customers = customers
            self.attackConcurrency = attackConcurrency
            self.executable = executable
        }
    }

    public struct Result: Codable, Sendable {
        public let customers: Int
        public let customers_ok: Int
        public let customers_p99_ms: Double
        public let baseline_p99_ms: Double
        public let flood_requests: Int
        public let flood_wall_s: Double
        public let server_max_rss_mb: Double
        public let errors_5xx: Int
        public let shed_503: Int
        public let rate_limited_429: Int
    }

    static let password = "a real customer's password"

    public static func run(
        _ parameters: Parameters, postgres: PostgresConfiguration, redis configuration: RedisConfiguration,
        keyPrefix: String, progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        try await BenchDatabase.with(postgres: postgres, poolSize: 4, redis: configuration) { database, redis in
            let prefix = keyPrefix + "bench:flood:\(UUID().uuidString.prefix(8)):"
            defer { Task { try? await QueueBenchmark.deleteKeys(redis, prefix: prefix) } }
            return try await measure(parameters, database: database, redis: configuration, prefix: prefix, progress: progress)
        }
    }

    static func measure(
        _ parameters: Parameters, database: BenchDatabase, redis: RedisConfiguration, prefix: String,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        progress("creating \(parameters.customers) customers with a bcrypt (cost 10) password")
        let hasher = try await PasswordHasher(cost: 10, threads: 1, maxPending: 10, onVerify: {})
        let hash = try await hasher.hash(password)
        hasher.shutdown()
        let tag = UUID().uuidString.prefix(8).lowercased()
        let emails = (0..<parameters.customers).map { "flood-\(tag)-\($0)@example.com" }
        _ = try await UserStore(pool: database.pool).createMany(
            emails: emails.map { EmailAddress($0)! }, passwordHash: hash, role: .customer)
        let product = try await database.insertProduct()
        func openDraw() async throws -> Int {
            let seed = DrawProtocolV1.makeSeed()
            return try await database.pool.query(
                """
                INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at, max_tickets, waitlist_depth, seed, commitment)
                VALUES ($1, 'draw', 'open', 10, 10, now() - interval '1 minute', now() + interval '1 hour', 1, 0, $2::bytea, $3)
                RETURNING id
                """, [.int(product), .bytes(seed), .text(DrawProtocolV1.commitment(seed: seed))])[0].int(0)
        }

        let server = try ServeProcess(
            executable: parameters.executable,
            environment: ServeProcess.storesEnvironment(database: database, redis: redis, prefix: prefix).merging([
                "FASTEST_SHOP_AUTH_JWT_SECRET": UUID().uuidString + UUID().uuidString,
                "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET": UUID().uuidString,
                "FASTEST_SHOP_HTTP_PORT": "0",
                "FASTEST_SHOP_LOG_LEVEL": "error",
            ]) { _, new in new })
        defer { server.stop() }
        let announced = try await server.waitForURL()
        guard let port = announced.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw BenchmarkError("serve announced no port: \(announced)")
        }
        let baseURL = "http://127.0.0.1:\(port)"
        _ = announced
        let http = CurlHTTPClient(name: "bench-flood", maxIdleConnections: 4096)
        defer { http.shutdown() }

        progress("baseline: \(parameters.customers) customers log in and enter a draw")
        let baselineDrop = try await openDraw()
        let baseline = await customersEnter(http, baseURL, emails: emails, dropID: baselineDrop)

        progress(
            "flood: \(parameters.singleAddressLogins) wrong-password logins from one address, "
                + "\(parameters.spreadLogins) over \(parameters.spreadAddresses) addresses at one email, while the customers log in")
        let floodDrop = try await openDraw()
        let counts = FloodCounts()
        let floodStart = ContinuousClock.now
        async let flood: Void = attack(http, baseURL, parameters, counts: counts)
        // Let the flood fill the bcrypt queue before the customers arrive.
        try await Task.sleep(for: .seconds(1))
        let during = await customersEnter(http, baseURL, emails: emails, dropID: floodDrop)
        await flood
        let floodWall = floodStart.duration(to: .now)
        let rss = Self.peakResidentMegabytes(pid: server.pid)
        let totals = counts.snapshot()
        let ok = during.filter { $0 != nil }.compactMap { $0 }
        return Result(
            customers: parameters.customers, customers_ok: ok.count,
            customers_p99_ms: percentile(ok.sorted(), 0.99),
            baseline_p99_ms: percentile(baseline.compactMap { $0 }.sorted(), 0.99),
            flood_requests: totals.requests,
            flood_wall_s: rounded(Double(floodWall.components.seconds) + Double(floodWall.components.attoseconds) * 1e-18),
            server_max_rss_mb: rss, errors_5xx: totals.errors5xx,
            shed_503: totals.shed503, rate_limited_429: totals.limited429)
    }

    /// Hands out 0, 1, 2… to concurrent attackers.
    final class Ticket: Sendable {
        private let value = Atomic<Int>(0)
        func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    }

    final class FloodCounts: Sendable {
        struct Totals { var requests = 0, errors5xx = 0, shed503 = 0, limited429 = 0 }
        private let totals = Mutex(Totals())

        func record(_ status: Int, retryAfter: Bool) {
            totals.withLock { totals in
                totals.requests += 1
                if status == 503 && retryAfter { totals.shed503 += 1 } else if status >= 500 || status == 0 { totals.errors5xx += 1 }
                if status == 429 { totals.limited429 += 1 }
            }
        }

        func snapshot() -> Totals { totals.withLock { $0 } }
    }

    /// The attackers: one address with `attackConcurrency` requests in flight, and one request
    /// at a time from each of the spread addresses, all at one email.
    static func attack(_ http: CurlHTTPClient, _ baseURL: String, _ parameters: Parameters, counts: FloodCounts) async {
        await withTaskGroup(of: Void.self) { group in
            let next = Ticket()
            for _ in 0..<parameters.attackConcurrency {
                group.addTask {
                    while true {
                        let index = next.take()
                        guard index < parameters.singleAddressLogins else { return }
                        let answer = try? await login(http, baseURL, email: "guess-\(index)@example.com", password: "wrong", from: "127.0.0.2")
                        counts.record(answer?.status ?? 0, retryAfter: answer?.header("Retry-After") != nil)
                    }
                }
            }
            let perAddress = parameters.spreadLogins / max(1, parameters.spreadAddresses)
            for address in 0..<parameters.spreadAddresses {
                group.addTask {
                    for _ in 0..<perAddress {
                        let answer = try? await login(http, baseURL, email: "victim@example.com", password: "wrong", from: "127.0.2.\(address + 1)")
                        counts.record(answer?.status ?? 0, retryAfter: answer?.header("Retry-After") != nil)
                    }
                }
            }
        }
    }

    /// Each customer, from an address of their own, logs in and enters `dropID`, retrying after
    /// 503 and 429 as `Retry-After` says (as a real client would, at most 30 tries a step);
    /// returns each customer's milliseconds from start to entry, nil if they did not get in.
    static func customersEnter(_ http: CurlHTTPClient, _ baseURL: String, emails: [String], dropID: Int) async -> [Double?] {
        await withTaskGroup(of: Double?.self) { group in
            for (index, email) in emails.enumerated() {
                group.addTask {
                    let address = "127.0.1.\(index % 250 + 1)"
                    let start = ContinuousClock.now
                    guard
                        let login = await HTTPResponse.retryingAsTold({
                            try await Self.login(http, baseURL, email: email, password: password, from: address)
                        }),
                        login.status == 200,
                        let token = (try? JSONSerialization.jsonObject(with: Data(login.body)) as? [String: Any])?["access_token"] as? String
                    else { return nil }
                    let entry = await HTTPResponse.retryingAsTold {
                        try await http.execute(
                            HTTPRequest(
                                method: "POST", url: baseURL + "/v1/drops/\(dropID)/entries",
                                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                body: Array("{}".utf8), timeoutMilliseconds: 60_000, localAddress: address))
                    }
                    guard entry?.status == 201 || entry?.status == 200 else { return nil }
                    let elapsed = start.duration(to: .now)
                    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15
                }
            }
            var results: [Double?] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    static func login(_ http: CurlHTTPClient, _ baseURL: String, email: String, password: String, from address: String) async throws -> HTTPResponse {
        try await http.execute(
            HTTPRequest(
                method: "POST", url: baseURL + "/v1/auth/login", headers: [("Content-Type", "application/json")],
                body: Array(#"{"email":"\#(email)","password":"\#(password)"}"#.utf8), timeoutMilliseconds: 60_000,
                localAddress: address))
    }

    /// The child's peak resident set (VmHWM), in MB.
    static func peakResidentMegabytes(pid: pid_t) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return rounded(kilobytes / 1024, 1)
    }
}
