import BlockingThreads
import ChildProcesses
import CurlHTTP
import Foundation
import Intake
import LocalServices
import Postgres
import Redis
import ShopDomain
import Storage
import Synchronization

/// `bench failover`: the production shape on one machine (`scripts/cluster up`), a draw taking
/// entries and an open-run selling through HAProxy, and one component after another killed with
/// SIGKILL while they do — the Redis master owning the open-run gate's slot, the PostgreSQL
/// primary (then the standby promoted, as a failover manager would), one `serve`, one `worker`
/// and the scheduler leader. Then the drops close and settle on what is left, and the drill
/// checks what customers were told against what PostgreSQL and the payment provider hold.
public struct FailoverDrill: Sendable {
    public struct Parameters: Sendable {
        /// Customers entering the draw, spread over the entry window.
        public var entrants = 3000
        /// Customers trying to buy the open-run, spread over the same window.
        public var buyers = 600
        public var openRunStock = 40
        public var drawStock = 20
        /// The draw's entry window; the kills happen inside it.
        public var windowSeconds = 45
        /// Requests in flight at once from the load generator.
        public var concurrency = 24
        /// The fastest-shop binary the roles run.
        public var executable: String

        public init(executable: String) { self.executable = executable }
    }

    public struct Result: Codable, Sendable {
        public var acknowledged_entries = 0
        public var entries_in_db = 0
        public var acknowledged_orders = 0
        public var orders_in_db = 0
        public var oversold = 0
        public var double_charges = 0
        public var audit_ok = false
        public var killed: [String] = []
        public var longest_unavailable_s = 0.0
        public var drops_settled = false
        /// Answers by status (0: no answer at all), entries and purchases together.
        public var answers: [String: Int] = [:]
        public var window_s = 0
        public var settle_s = 0.0

        /// Every goal of the drill but the time one (which depends on the machine).
        public var holds: Bool {
            entries_in_db == acknowledged_entries && orders_in_db == acknowledged_orders && oversold == 0
                && double_charges == 0 && audit_ok && drops_settled && killed.count == 5
        }
    }

    let parameters: Parameters
    let progress: @Sendable (String) -> Void

    public init(parameters: Parameters, progress: @escaping @Sendable (String) -> Void) {
        self.parameters = parameters
        self.progress = progress
    }

    public func run() async throws -> Result {
        progress("starting the cluster (scripts/cluster up)")
        let cluster = try await LocalCluster.up(name: "drill", options: ["--binary", parameters.executable])
        do {
            let result = try await drill(cluster: cluster, environment: cluster.environment)
            // A drill that did not hold keeps its servers' logs for the post-mortem.
            if !result.holds { progress("logs kept in \(cluster.directory)") }
            await cluster.down(keepLogs: !result.holds)
            return result
        } catch {
            progress("logs kept in \(cluster.directory)")
            await cluster.down(keepLogs: true)
            throw error
        }
    }

    private func drill(cluster: LocalCluster, environment: [String: String]) async throws -> Result {
        guard let api = environment["FASTEST_SHOP_CLUSTER_URL"], let secret = environment["FASTEST_SHOP_AUTH_JWT_SECRET"],
            let paymentsURL = environment["FASTEST_SHOP_PAYMENTS_URL"]
        else { throw BenchFailure("scripts/cluster up printed no cluster settings") }
        let pool = PostgresPool(configuration: cluster.postgresConfiguration, size: 2, name: "drill-pg")
        let http = CurlHTTPClient(name: "drill")
        defer { http.shutdown() }
        let tokens = await AccessTokens(secret: secret, lifetimeSeconds: 3600, cacheCapacity: 1)
        let users = UserStore(pool: pool)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let operatorID = try await users.create(email: EmailAddress("operator-\(tag)@drill.local")!, passwordHash: "drill", role: .operator).id
        let operatorToken = try await tokens.issue(for: AuthenticatedUser(id: operatorID, role: .operator))
        let client = DrillClient(http: http, api: api)

        let product = try await client.json(
            "POST", "/v1/products", token: operatorToken,
            body: #"{"name":"Drill Runner","price_cents":12000,"currency":"EUR"}"#)
        let productID = try product.int("id")
        let window = parameters.windowSeconds
        let openRun = try await client.json(
            "POST", "/v1/drops", token: operatorToken,
            body: """
                {"product_id":\(productID),"kind":"open_run","stock":\(parameters.openRunStock),\
                "opens_at":"\(Self.time(-1))","closes_at":"\(Self.time(Double(window)))"}
                """
        ).int("id")
        let draw = try await client.json(
            "POST", "/v1/drops", token: operatorToken,
            body: """
                {"product_id":\(productID),"kind":"draw","stock":\(parameters.drawStock),"waitlist_depth":\(parameters.drawStock * 2),\
                "opens_at":"\(Self.time(-1))","closes_at":"\(Self.time(Double(window)))"}
                """
        ).int("id")
        let windowEnds = ContinuousClock.now + .seconds(window)
        progress("drops \(openRun) (open-run, \(parameters.openRunStock) units) and \(draw) (draw) open for \(window) s")

        let emails = (0..<(parameters.entrants + parameters.buyers)).map { EmailAddress("drill-\(tag)-\($0)@drill.local")! }
        let ids = try await users.createMany(emails: emails, passwordHash: "drill", role: .customer)
        var bearers: [String] = []
        bearers.reserveCapacity(ids.count)
        for id in ids { bearers.append("Bearer " + (try await tokens.issue(for: AuthenticatedUser(id: id, role: .customer)))) }
        // Entrants and buyers interleaved, so both streams run through the whole window.
        var work: [(kind: DrillLoad.Kind, user: Int, bearer: String)] = []
        let entrants = Array(zip(ids.prefix(parameters.entrants), bearers.prefix(parameters.entrants)))
        let buyers = Array(zip(ids.suffix(parameters.buyers), bearers.suffix(parameters.buyers)))
        var e = 0
        var b = 0
        while e < entrants.count || b < buyers.count {
            if e < entrants.count, b * entrants.count >= e * max(buyers.count, 1) || b >= buyers.count {
                work.append((.entry, entrants[e].0, entrants[e].1))
                e += 1
            } else {
                work.append((.purchase, buyers[b].0, buyers[b].1))
                b += 1
            }
        }

        let load = DrillLoad(
            client: client, drawID: draw, openRunID: openRun, work: work,
            until: windowEnds - .seconds(2), concurrency: parameters.concurrency)
        let loadTask = Task { await load.run() }

        // The kills, spread over the window's first two thirds (the load runs on meanwhile).
        var killed: [String] = []
        let step = Double(window) * 0.6 / 5
        func at(_ index: Double) async {
            let due = windowEnds - .seconds(window) + .milliseconds(Int((2 + index * step) * 1000))
            try? await Task.sleep(until: due, clock: .continuous)
        }
        await at(0)
        let slot = Self.slot(ofGate: openRun)
        progress(
            "killing the Redis master of slot \(slot) (drop \(openRun)'s gate): \(try await cluster.run(["kill", "redis-slot:\(slot)"]).trimmed)")
        killed.append("redis-master")
        await at(1)
        progress("killing the PostgreSQL primary: \(try await cluster.run(["kill", "postgres-primary"]).trimmed)")
        killed.append("postgres-primary")
        // A failover manager notices within seconds and promotes the synchronous standby.
        try await Task.sleep(for: .seconds(2))
        progress(try await cluster.run(["promote"]).trimmed)
        await at(2)
        progress("killing \(try await cluster.run(["kill", "serve-1"]).trimmed)")
        killed.append("serve")
        await at(3)
        progress("killing \(try await cluster.run(["kill", "worker-1"]).trimmed)")
        killed.append("worker")
        await at(4)
        let leader = try await schedulerLeader(pool: pool, cluster: cluster)
        progress("killing the scheduler leader: \(try await cluster.run(["kill", leader]).trimmed)")
        killed.append("scheduler-leader")

        let outcome = await loadTask.value
        progress("load done: \(outcome.answers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")

        // The drops close at the end of the window; the survivors draw, charge and settle them.
        let settleStarted = ContinuousClock.now
        var settled = false
        let settleDeadline = ContinuousClock.now + .seconds(240)
        while ContinuousClock.now < settleDeadline {
            let statuses = try? await pool.withConnection { connection in
                try connection.query("SELECT status FROM drops WHERE id = ANY($1)", [.intArray([openRun, draw])]).map { try $0.string(0) }
            }
            if let statuses, statuses.count == 2, statuses.allSatisfy({ $0 == "settled" }) {
                settled = true
                break
            }
            progress("waiting for the drops to settle: \(statuses?.joined(separator: ", ") ?? "database unreachable")")
            try await Task.sleep(for: .seconds(2))
        }

        var result = Result()
        result.killed = killed
        result.window_s = window
        result.settle_s = Self.seconds(settleStarted.duration(to: .now))
        result.drops_settled = settled
        result.answers = Dictionary(uniqueKeysWithValues: outcome.answers.map { (String($0.key), $0.value) })
        result.longest_unavailable_s = (Self.seconds(outcome.longestGap) * 10).rounded() / 10
        result.acknowledged_entries = outcome.entered.count
        let stored = Set(
            try await pool.withConnection { connection in
                try connection.query("SELECT user_id FROM entries WHERE drop_id = $1", [.int(draw)]).map { try $0.int(0) }
            })
        result.entries_in_db = outcome.entered.filter { stored.contains($0) }.count
        result.acknowledged_orders = outcome.orders.count
        let orders = Set(
            try await pool.withConnection { connection in
                try connection.query("SELECT id FROM orders WHERE drop_id = ANY($1)", [.intArray([openRun, draw])]).map { try $0.int(0) }
            })
        result.orders_in_db = outcome.orders.filter { orders.contains($0) }.count
        result.oversold = try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT coalesce(sum(greatest(0, paid - stock)), 0) FROM (
                  SELECT d.stock, (SELECT count(*) FROM orders o WHERE o.drop_id = d.id AND o.status = 'paid') AS paid
                  FROM drops d WHERE d.id = ANY($1)) AS figures
                """, [.intArray([openRun, draw])])[0].int(0)
        }
        let stats = try await http.execute(HTTPRequest(url: paymentsURL.replacingOccurrences(of: "/v1/charges", with: "/v1/stats")))
        if let object = try? JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any] {
            result.double_charges = ((object["double_charged_keys"] as? Int) ?? 0) + ((object["double_charged_orders"] as? Int) ?? 0)
        } else {
            result.double_charges = -1
        }
        var auditEnvironment = ChildProcess.currentEnvironment()
        for (key, value) in environment { auditEnvironment[key] = value }
        let auditSettings = auditEnvironment
        let audit = try await Self.blocking { [parameters] in
            try ChildProcess.runToCompletion(executable: parameters.executable, arguments: ["audit"], environment: auditSettings)
        }
        result.audit_ok = audit.status == 0
        if !result.audit_ok { progress("audit: \(audit.output) \(audit.errorOutput)") }
        await pool.shutdown()
        return result
    }

    /// The component name (`scheduler-1`/`scheduler-2`) of the scheduler holding leadership:
    /// its holder name ends in its pid.
    private func schedulerLeader(pool: PostgresPool, cluster: LocalCluster) async throws -> String {
        for _ in 0..<100 {
            if let holder = try? await pool.withConnection({ try $0.query("SELECT holder FROM scheduler_leadership")[0].string(0) }),
                let pid = holder.split(separator: "-").last.map(String.init)
            {
                for name in ["scheduler-1", "scheduler-2"] where cluster.pid(of: name) == pid { return name }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchFailure("cannot tell which scheduler leads")
    }

    /// The slot of a drop's gate keys (their hash tag is `drop:ID`).
    static func slot(ofGate dropID: Int) -> Int { RedisClusterSlot.of("drop:\(dropID)") }

    static func time(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date().addingTimeInterval(seconds))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await DetachedThread.value(name: "failover-drill", body)
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
