import ArgumentParser
import Bench
import Foundation
import Settings
import ShopDomain

/// `bench queue`: reliable fetch and acknowledgement against one BRPOP per job.
struct BenchQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Enqueue N no-op jobs, drain them with reliable fetch and acknowledgement; baseline: one BRPOP per job.")

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var bench: BenchOptions
    @Option(help: "Jobs to enqueue and drain.") var jobs = 500_000
    @Option(help: "Runners in the draining worker.") var concurrency = 256
    @Option(help: "Most jobs taken from Redis per fetch.") var fetchBatch = 1000
    @Option(help: "Jobs for the naive BRPOP baseline.") var baselineJobs = 50_000
    @Flag(help: "Also run it on a Redis Cluster of three shards (scripts/cluster up --redis-only) and report both.")
    var cluster = false

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices()
        let parameters = QueueBenchmark.Parameters(jobs: jobs, concurrency: concurrency, fetchBatch: fetchBatch, baselineJobs: baselineJobs)
        let result = try await QueueBenchmark.run(parameters, redis: settings.redisConfiguration, progress: { [bench] in bench.progress($0) })
        if cluster {
            bench.progress("starting a Redis Cluster (3 masters, 3 replicas)")
            let local = try await LocalCluster.up(name: "bench-queue", options: ["--redis-only"])
            let clustered: QueueBenchmark.Result
            do {
                clustered = try await QueueBenchmark.run(
                    parameters, redis: local.redisConfiguration, progress: { [bench] in bench.progress("cluster: " + $0) })
            } catch {
                await local.down()
                throw error
            }
            await local.down()
            let both = ClusterComparison(single: result, cluster: clustered)
            try bench.report(both) {
                """
                single Redis: drain \(Int(result.drain_per_s))/s, enqueue \(Int(result.enqueue_per_s))/s, pickup p50 \(result.pickup_p50_ms) ms
                Redis Cluster: drain \(Int(clustered.drain_per_s))/s, enqueue \(Int(clustered.enqueue_per_s))/s, pickup p50 \(clustered.pickup_p50_ms) ms
                """
            }
            return
        }
        try bench.report(result) {
            """
            \(result.jobs) jobs: enqueue \(Int(result.enqueue_per_s))/s, drain \(Int(result.drain_per_s))/s \
            (baseline BRPOP loop \(Int(result.baseline_drain_per_s))/s), pickup p50 \(result.pickup_p50_ms) ms, p99 \(result.pickup_p99_ms) ms
            """
        }
    }
}

/// `bench draw`: the close job of a large draw against COPY out of its entries.
struct BenchDraw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draw",
        abstract: "Close a draw of N entries (rank, lock stock, create orders, enqueue charges) against COPY of the same entries.")

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var bench: BenchOptions
    @Option(help: "Entries (distinct customers).") var entries = 1_000_000
    @Option(help: "Units in the drop.") var stock = 1000
    @Option(help: "Waitlist depth (default: the stock).") var waitlistDepth: Int?
    @Option(help: "Write the drawn drop's audit bundle to this file.") var auditOut: String?
    @Option(help: "draw (one ticket each) or raffle (mixed tickets, 1…--max-tickets).") var kind: DropKind = .draw
    @Option(help: "A raffle's most tickets per entry.") var maxTickets = 10

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices()
        let progress = TerminalProgress("bench draw")
        let result = try await DrawBenchmark.run(
            .init(entries: entries, stock: stock, waitlistDepth: waitlistDepth, auditOut: auditOut, kind: kind, maxTickets: maxTickets),
            postgres: settings.postgresConfiguration, redis: settings.redisConfiguration,
            progress: { progress.update($0) })
        progress.finish()
        try bench.report(result) {
            "\(result.entries) \(result.kind) entries (\(result.tickets) tickets), \(result.stock) units: close \(result.close_s) s, "
                + "COPY out \(result.copy_out_s) s, ratio \(result.ratio), max RSS \(result.worker_max_rss_mb) MB, "
                + "bundle \(result.bundle_bytes) bytes"
        }
    }
}

/// `bench payments`: charges through the worker against mock-payments at a fixed latency.
struct BenchPayments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments",
        abstract: "Charge N pending orders through the worker and the payment webhook (mock-payments at a fixed latency).")

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var bench: BenchOptions
    @Option(help: "Pending orders to charge.") var orders = 10_000
    @Option(help: "Provider latency per charge, in milliseconds.") var latencyMs = 50
    @Option(help: "Charges in flight in the worker.") var concurrency = 512
    @Option(help: "Fraction of charges answered pending whose success comes after the payment window (refunded).") var lateRate = 0.02

    func run() async throws {
        // An in-process intake receives the provider's late callbacks.
        let settings = try await settings.loadStartingLocalServices(BenchDefaults.overrides)
        let result = try await PaymentsBenchmark.run(
            .init(orders: orders, latencyMilliseconds: latencyMs, concurrency: concurrency, lateRate: lateRate),
            settings: settings, progress: { [bench] in bench.progress($0) })
        try bench.report(result) {
            "\(result.orders) orders at \(result.latency_ms) ms: \(Int(result.charges_per_s)) charges/s, "
                + "\(result.double_charges) double charges, \(result.late_successes_refunded)/\(result.late_successes) late successes "
                + "refunded, \(result.kept_without_unit) kept without a unit, \(result.double_refunds) double refunds"
        }
    }
}

/// `bench open-run`: N buyers rush S units, admission gate against the classic design.
struct BenchOpenRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open-run",
        abstract: "N distinct buyers rush an open-run of S units at once: admission gate vs one FOR UPDATE transaction per request.")

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var bench: BenchOptions
    @Option(help: "Distinct buyers, all connected, purchasing at once.") var buyers = 10_000
    @Option(help: "Units on sale.") var stock = 10

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices()
        // `serve` runs from this very binary.
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let result = try await OpenRunBenchmark.run(
            .init(buyers: buyers, stock: stock, executable: resolved),
            postgres: settings.postgresConfiguration, redis: settings.redisConfiguration,
            keyPrefix: settings.redis.keyPrefix, progress: { [bench] in bench.progress($0) })
        try bench.report(result) {
            """
            \(result.buyers) buyers for \(result.stock) units: \(result.orders) orders, \(result.sold_out) sold out, \
            \(result.oversold) oversold; \(result.wall_s) s (p50 \(result.p50_ms) ms, p99 \(result.p99_ms) ms) \
            vs classic \(result.baseline_wall_s) s: \(result.ratio)× faster
            """
        }
    }
}

/// A scenario's figures on one server and through the cluster, measured in the same run.
struct ClusterComparison<Single: Encodable, Cluster: Encodable>: Encodable {
    let single: Single
    let cluster: Cluster
}

/// `bench flood`: the issue-16 login flood while real customers log in and enter a draw.
struct BenchFlood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract:
            "Wrong-password logins from one address and spread over many at one email, while real customers log in and enter a draw; the same customers without the flood as the baseline."
    )

    @OptionGroup var settings: SettingsOptions
    @OptionGroup var bench: BenchOptions
    @Option(help: "Wrong-password logins from one address.") var singleAddressLogins = 20_000
    @Option(help: "Wrong-password logins at one email, spread over --spread-addresses addresses.") var spreadLogins = 5_000
    @Option(help: "Addresses the spread logins come from.") var spreadAddresses = 50
    @Option(help: "Real customers logging in and entering a draw.") var customers = 100

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices()
        // `serve` runs from this very binary.
        let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let result = try await FloodBenchmark.run(
            .init(
                singleAddressLogins: singleAddressLogins, spreadLogins: spreadLogins, spreadAddresses: spreadAddresses,
                customers: customers, executable: resolved),
            postgres: settings.postgresConfiguration, redis: settings.redisConfiguration,
            keyPrefix: settings.redis.keyPrefix, progress: { [bench] in bench.progress("flood: \($0)") })
        try bench.report(result) {
            """
            \(result.customers_ok)/\(result.customers) customers in (p99 \(result.customers_p99_ms) ms, \
            \(result.baseline_p99_ms) ms without the flood) during \(result.flood_requests) flood requests; \
            \(result.errors_5xx) 5xx, \(result.shed_503) shed with 503, \(result.rate_limited_429) limited with 429; \
            serve peak RSS \(result.server_max_rss_mb) MB
            """
        }
    }
}

extension DropKind: ExpressibleByArgument {}
