import CurlHTTP
import Foundation
import Intake
import Logging
import NIOCore
import Postgres
import ServiceLifecycle
import Settings
import ShopDomain
import Storage
import Synchronization

/// `bench intake`: durable entries under concurrent load from many distinct customers.
///
/// Three measurements driven by the same load generator (SwiftNIO, one event loop, the same
/// number of keep-alive connections, one request in flight on each):
/// `/healthz` of the intake server (its ceiling), entries on that server (group commit), and
/// entries on a second in-process server in naive mode (`entries.max_batch` 1 with as many
/// writers as the request pool has connections for requests: one INSERT and commit per request)
/// against the same database. They take turns in rounds, each round with customers of its own.
public struct IntakeBenchmark: Sendable {
    public var entries: Int
    public var concurrency: Int

    /// Turns each measurement takes.
    static let rounds = 5

    public init(entries: Int = 20_000, concurrency: Int = 128) {
        self.entries = entries
        self.concurrency = concurrency
    }

    public struct Result: Sendable, Encodable {
        public var entries: Int
        public var accepted: Int
        public var rows: Int
        public var entriesPerSecond: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var healthzPerSecond: Double
        public var naiveEntriesPerSecond: Double
        public var naiveAccepted: Int
        public var naiveRows: Int
        public var meanBatchSize: Double
        public var concurrency: Int

        enum CodingKeys: String, CodingKey {
            case entries, accepted, rows
            case entriesPerSecond = "entries_per_s"
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
            case healthzPerSecond = "healthz_per_s"
            case naiveEntriesPerSecond = "naive_entries_per_s"
            case naiveAccepted = "naive_accepted"
            case naiveRows = "naive_rows"
            case meanBatchSize = "mean_batch_size"
            case concurrency
        }
    }

    public func run(settings: ShopSettings, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 2, name: "bench-setup")
        defer { Task { await pool.shutdown() } }
        try await Migrator().migrate(pool)

        progress("creating \(entries) customers and two draws")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let emails = (0..<entries).map { EmailAddress("bench-\(tag)-\($0)@example.com")! }
        let customers = try await UserStore(pool: pool).createMany(emails: emails, passwordHash: "bench-no-login", role: .customer)
        let groupDrop = try await BenchData.openDraw(pool: pool, stock: 100)
        let naiveDrop = try await BenchData.openDraw(pool: pool, stock: 100)
        let tokens = await AccessTokens(secret: settings.auth.jwtSecret, lifetimeSeconds: 3600, cacheCapacity: 1)
        var bearer: [String] = []
        bearer.reserveCapacity(entries)
        for id in customers { bearer.append(try await tokens.issue(for: AuthenticatedUser(id: id, role: .customer))) }
        let authorization = bearer

        @Sendable func entry(drop: Int, customer: Int) -> [UInt8] {
            HTTPLoadGenerator.request(
                method: "POST", path: "/v1/drops/\(drop)/entries", host: "127.0.0.1",
                headers: [("Authorization", "Bearer \(authorization[customer])"), ("Content-Type", "application/json")],
                body: #"{"tickets":1}"#)
        }
        let healthzRequest = HTTPLoadGenerator.request(method: "GET", path: "/healthz", host: "127.0.0.1")

        // The writers borrow from the request pool: the naive server's pool grows by its
        // writers, so its requests keep the connections the group-commit server's have.
        let requestConnections = settings.postgres.poolSize - settings.entries.writers
        var naiveSettings = settings
        naiveSettings.entries.maxBatch = 1
        naiveSettings.entries.writers = requestConnections
        naiveSettings.postgres.poolSize = requestConnections + naiveSettings.entries.writers
        let rounds = Self.rounds
        let concurrency = concurrency
        let (healthz, group, naive, metrics) = try await InProcessIntake.with(settings: settings) { server in
            try await InProcessIntake.with(settings: naiveSettings) { naiveServer in
                // One event loop per server (they are measured in turn) over keep-alive
                // connections, `concurrency` each, the way `wrk -t1` would: a generator that cost
                // more per request than the server's cheapest answer would hide the differences
                // being measured.
                let load = HTTPLoadGenerator(host: "127.0.0.1", port: server.port, threads: 1)
                let naiveLoad = HTTPLoadGenerator(host: "127.0.0.1", port: naiveServer.port, threads: 1)
                defer {
                    Task {
                        await load.shutdown()
                        await naiveLoad.shutdown()
                    }
                }
                let channels = try await load.connect(count: concurrency)
                let naiveChannels = try await naiveLoad.connect(count: concurrency)
                defer { for channel in channels + naiveChannels { channel.close(promise: nil) } }
                func measure(_ generator: HTTPLoadGenerator, _ requests: [[UInt8]], on channels: [any Channel]) async throws -> HTTPLoad.Outcome {
                    let start = ContinuousClock.now
                    let answers = try await generator.closedLoop(requests, on: channels)
                    return HTTPLoad.Outcome(answers: answers, seconds: start.duration(to: .now))
                }

                progress("warming up")
                _ = try await measure(load, Array(repeating: healthzRequest, count: 2_000), on: channels)
                // The three measurements take turns in rounds, so that whatever else the machine
                // is doing weighs on each alike.
                var healthz: [HTTPLoad.Outcome] = []
                var group: [HTTPLoad.Outcome] = []
                var naive: [HTTPLoad.Outcome] = []
                for round in 0..<rounds {
                    let customers = (entries * round / rounds)..<(entries * (round + 1) / rounds)
                    progress("round \(round + 1)/\(rounds): /healthz, group commit, one transaction per request")
                    let healthzRequests = Array(repeating: healthzRequest, count: max(customers.count, 4_000))
                    healthz.append(try await measure(load, healthzRequests, on: channels))
                    let groupRequests = customers.map { entry(drop: groupDrop, customer: $0) }
                    group.append(try await measure(load, groupRequests, on: channels))
                    let naiveRequests = customers.map { entry(drop: naiveDrop, customer: $0) }
                    naive.append(try await measure(naiveLoad, naiveRequests, on: naiveChannels))
                }
                return (
                    HTTPLoad.Outcome(combining: healthz), HTTPLoad.Outcome(combining: group),
                    HTTPLoad.Outcome(combining: naive), server.service.metrics
                )
            }
        }
        let rows = try await BenchData.entryCount(pool: pool, dropID: groupDrop)
        let naiveRows = try await BenchData.entryCount(pool: pool, dropID: naiveDrop)
        let batchCount = BenchData.sample(metrics.exposition(), "intake_entry_batch_size_count")
        return Result(
            entries: entries, accepted: group.count(status: 201), rows: rows,
            entriesPerSecond: group.perSecond, p50Milliseconds: group.percentile(0.50), p99Milliseconds: group.percentile(0.99),
            healthzPerSecond: healthz.perSecond, naiveEntriesPerSecond: naive.perSecond,
            naiveAccepted: naive.count(status: 201), naiveRows: naiveRows,
            meanBatchSize: batchCount > 0 ? Double(group.count(status: 201)) / batchCount : 0, concurrency: concurrency)
    }
}

// MARK: shared by the intake and cache benchmarks

/// Data the benchmarks create directly in PostgreSQL.
enum BenchData {
    /// An open draw on a new product, closing in an hour; returns its id.
    static func openDraw(pool: PostgresPool, stock: Int) async throws -> Int {
        let product = try await ProductStore(pool: pool).create(try NewProduct(name: "bench", priceCents: 1000, currency: "EUR"))
        let creator = try await UserStore(pool: pool).create(
            email: EmailAddress("bench-operator-\(UUID().uuidString.prefix(8))@example.com")!, passwordHash: "bench-no-login",
            role: .operator)
        let now = Date()
        let drop = try NewDrop(
            productID: product.id, kind: .draw, stock: stock, opensAt: now.addingTimeInterval(-1),
            closesAt: now.addingTimeInterval(3600), maxTickets: nil, waitlistDepth: nil, now: now)
        return try await DropStore(pool: pool).create(drop, createdBy: creator.id).drop.id
    }

    static func entryCount(pool: PostgresPool, dropID: Int) async throws -> Int {
        try await pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0)
    }

    /// One sample of a Prometheus exposition (0 when absent).
    static func sample(_ exposition: [UInt8], _ name: String) -> Double {
        for line in String(decoding: exposition, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1)) ?? 0
        }
        return 0
    }
}

/// An intake server in this process on a free port, for the time of `body`.
struct InProcessIntake: Sendable {
    let service: IntakeService
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    func url(_ path: String) -> String { baseURL + path }

    static func with<T: Sendable>(settings: ShopSettings, _ body: (InProcessIntake) async throws -> T) async throws -> T {
        var settings = settings
        settings.http.host = "127.0.0.1"
        settings.http.port = 0
        // The load generator's connections all come from this one machine.
        settings.http.maxConnectionsPerAddress = 1_000_000
        var logger = Logger(label: "bench.intake")
        logger.logLevel = .warning
        let service = try await IntakeService(settings: settings, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(
            services: [try service.makeApplication { continuation.yield($0) }], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchFailure("the intake server did not start") }
        let server = InProcessIntake(service: service, port: port)
        do {
            let value = try await body(server)
            await group.triggerGracefulShutdown()
            try await running.value
            return value
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The load generator: a fixed number of requests kept `concurrency` in flight on keep-alive
/// connections (libcurl multi); records each status and latency.
final class HTTPLoad: Sendable {
    let concurrency: Int
    private let client: CurlHTTPClient

    init(concurrency: Int) {
        self.concurrency = concurrency
        client = CurlHTTPClient(name: "bench-load", maxIdleConnections: max(256, concurrency * 2))
    }

    struct Outcome: Sendable {
        let statuses: [Int: Int]
        /// Sorted.
        let latenciesMilliseconds: [Double]
        let seconds: Double

        var perSecond: Double { Double(latenciesMilliseconds.count) / seconds }

        init(statuses: [Int: Int], latenciesMilliseconds: [Double], seconds: Double) {
            self.statuses = statuses
            self.latenciesMilliseconds = latenciesMilliseconds
            self.seconds = seconds
        }

        init(answers: [HTTPLoadGenerator.Answer], seconds duration: Duration) {
            statuses = answers.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
            latenciesMilliseconds = answers.map { Double($0.nanoseconds) / 1e6 }.sorted()
            seconds = HTTPLoad.milliseconds(duration) / 1000
        }

        /// Several runs of one measurement as one: all their requests over all their time.
        init(combining outcomes: [Outcome]) {
            statuses = outcomes.reduce(into: [:]) { $0.merge($1.statuses, uniquingKeysWith: +) }
            latenciesMilliseconds = outcomes.flatMap(\.latenciesMilliseconds).sorted()
            seconds = outcomes.reduce(0) { $0 + $1.seconds }
        }
        func count(status: Int) -> Int { statuses[status, default: 0] }
        func percentile(_ fraction: Double) -> Double { Bench.percentile(latenciesMilliseconds, fraction) }
    }

    func run(count: Int, _ request: @escaping @Sendable (Int) -> HTTPRequest) async -> Outcome {
        let next = NextIndex()
        let clock = ContinuousClock()
        let start = clock.now
        let samples = await withTaskGroup(of: [(Int, Double)].self) { group in
            for _ in 0..<concurrency {
                group.addTask { [client] in
                    var samples: [(Int, Double)] = []
                    while true {
                        let index = next.take()
                        guard index < count else { return samples }
                        let sent = clock.now
                        let status = (try? await client.execute(request(index)).status) ?? 0
                        samples.append((status, Self.milliseconds(clock.now - sent)))
                    }
                }
            }
            return await group.reduce(into: [(Int, Double)]()) { $0 += $1 }
        }
        let elapsed = clock.now - start
        var statuses: [Int: Int] = [:]
        for sample in samples { statuses[sample.0, default: 0] += 1 }
        return Outcome(statuses: statuses, latenciesMilliseconds: samples.map(\.1).sorted(), seconds: Self.milliseconds(elapsed) / 1000)
    }

    func shutdown() { client.shutdown() }

    /// Hands out request indices to the concurrent senders.
    private final class NextIndex: Sendable {
        private let value = Atomic<Int>(0)
        func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
