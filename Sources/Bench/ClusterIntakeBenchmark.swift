import Foundation
import Intake
import NIOCore
import Postgres
import ShopDomain
import Storage

/// `bench intake --cluster`: the same entries through the production shape — HAProxy, two
/// `serve`, a Redis Cluster and a PostgreSQL primary committing synchronously to its standby
/// (`scripts/cluster up`) — so that the cost of the extra hops is known beside the single-node
/// figures of the same run.
public struct ClusterIntakeBenchmark: Sendable {
    public var entries: Int
    public var concurrency: Int
    /// The fastest-shop binary the cluster's roles run.
    public var executable: String

    public init(entries: Int, concurrency: Int, executable: String) {
        self.entries = entries
        self.concurrency = concurrency
        self.executable = executable
    }

    public struct Result: Sendable, Encodable {
        public var entries: Int
        public var accepted: Int
        public var rows: Int
        public var entries_per_s: Double
        public var p50_ms: Double
        public var p99_ms: Double
        public var healthz_per_s: Double
        public var concurrency: Int
        public var path: String
    }

    public func run(progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        progress("starting the cluster (scripts/cluster up)")
        let cluster = try await LocalCluster.up(name: "bench-intake", options: ["--binary", executable])
        do {
            let result = try await measure(cluster, progress: progress)
            await cluster.down()
            return result
        } catch {
            await cluster.down(keepLogs: true)
            throw error
        }
    }

    private func measure(_ cluster: LocalCluster, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        guard let url = cluster.environment["FASTEST_SHOP_CLUSTER_URL"], let secret = cluster.environment["FASTEST_SHOP_AUTH_JWT_SECRET"],
            let port = url.split(separator: ":").last.flatMap({ Int($0) })
        else { throw BenchFailure("scripts/cluster up printed no cluster settings") }
        let pool = PostgresPool(configuration: cluster.postgresConfiguration, size: 2, name: "bench-cluster-setup")
        defer { Task { await pool.shutdown() } }
        progress("creating \(entries) customers and a draw in the cluster's PostgreSQL")
        let tag = UUID().uuidString.prefix(8).lowercased()
        let emails = (0..<entries).map { EmailAddress("bench-\(tag)-\($0)@example.com")! }
        let customers = try await UserStore(pool: pool).createMany(emails: emails, passwordHash: "bench-no-login", role: .customer)
        let drop = try await BenchData.openDraw(pool: pool, stock: 100)
        let tokens = await AccessTokens(secret: secret, lifetimeSeconds: 3600, cacheCapacity: 1)
        var requests: [[UInt8]] = []
        requests.reserveCapacity(entries)
        for id in customers {
            let bearer = try await tokens.issue(for: AuthenticatedUser(id: id, role: .customer))
            requests.append(
                HTTPLoadGenerator.request(
                    method: "POST", path: "/v1/drops/\(drop)/entries", host: "127.0.0.1",
                    headers: [("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json")], body: #"{"tickets":1}"#))
        }
        let load = HTTPLoadGenerator(host: "127.0.0.1", port: port, threads: 1)
        let channels = try await load.connect(count: concurrency)
        defer {
            for channel in channels { channel.close(promise: nil) }
            Task { await load.shutdown() }
        }
        let healthzRequest = HTTPLoadGenerator.request(method: "GET", path: "/healthz", host: "127.0.0.1")
        progress("warming up through HAProxy")
        _ = try await load.closedLoop(Array(repeating: healthzRequest, count: 2_000), on: channels)
        var start = ContinuousClock.now
        let healthzAnswers = try await load.closedLoop(Array(repeating: healthzRequest, count: max(entries, 4_000)), on: channels)
        let healthz = HTTPLoad.Outcome(answers: healthzAnswers, seconds: start.duration(to: .now))
        progress("\(entries) entries through HAProxy, two serve, the cluster's stores")
        start = ContinuousClock.now
        let answers = try await load.closedLoop(requests, on: channels)
        let group = HTTPLoad.Outcome(answers: answers, seconds: start.duration(to: .now))
        let rows = try await pool.withConnection { try $0.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(drop)])[0].int(0) }
        return Result(
            entries: entries, accepted: group.count(status: 201), rows: rows, entries_per_s: group.perSecond.rounded(),
            p50_ms: group.percentile(0.50), p99_ms: group.percentile(0.99), healthz_per_s: healthz.perSecond.rounded(),
            concurrency: concurrency, path: "HAProxy → 2 serve → Redis Cluster (3 shards) + PostgreSQL with a synchronous standby")
    }
}
