import ArgumentParser
import Bench
import Foundation
import Settings

struct BenchIntake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Durable entries under concurrent load: group commit vs one transaction per request vs /healthz.",
        discussion: "Uses the configured PostgreSQL and Redis, or starts the local ones (.fastest/services) when none is configured.")

    @OptionGroup var settings: SettingsOptions
    @Option(help: "Entry requests per measurement (distinct customers).") var entries = 20_000
    @Option(help: "Requests in flight at once.") var concurrency = 128
    @Flag(
        help:
            "Also send the entries through the cluster (scripts/cluster up: HAProxy, two serve, Redis Cluster, PostgreSQL with a synchronous standby) and report both."
    )
    var cluster = false
    @OptionGroup var bench: BenchOptions

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices(BenchDefaults.overrides)
        let result = try await IntakeBenchmark(entries: entries, concurrency: concurrency).run(settings: settings) { [bench] in
            bench.progress("intake: \($0)")
        }
        if cluster {
            let clustered = try await ClusterIntakeBenchmark(
                entries: entries, concurrency: concurrency, executable: try BenchFailover.ownExecutable()
            ).run { [bench] in bench.progress("intake (cluster): \($0)") }
            try bench.report(ClusterComparison(single: result, cluster: clustered))
            return
        }
        try bench.report(result)
    }
}

struct BenchCache: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Product reads: the refresh storm (serve's local cache) vs Redis warm vs cold (Redis miss, PostgreSQL, fill) vs /healthz.")

    @OptionGroup var settings: SettingsOptions
    @Option(help: "Distinct products, each read once cold and once with Redis warm.") var products = 20_000
    @Option(help: "Requests in flight at once.") var concurrency = 128
    @Option(help: "Products the refresh storm reads over and over (as many reads as --products).") var hotProducts = 100
    @OptionGroup var bench: BenchOptions

    func run() async throws {
        let settings = try await settings.loadStartingLocalServices(BenchDefaults.overrides)
        let result = try await CacheBenchmark(products: products, concurrency: concurrency, hotProducts: hotProducts).run(settings: settings) {
            [bench] in
            bench.progress("cache: \($0)")
        }
        try bench.report(result)
    }
}

enum BenchDefaults {
    /// Benchmarks drive one address far beyond a client's fair share; the per-address limit
    /// would measure itself. A throwaway token key unless one is configured.
    static var overrides: [String: String] {
        var values = ["limits.ip_per_s": "10000000", "limits.ip_burst": "100000000"]
        if ProcessInfo.processInfo.environment["FASTEST_SHOP_AUTH_JWT_SECRET"] == nil {
            values["auth.jwt_secret"] = UUID().uuidString + UUID().uuidString
        }
        if ProcessInfo.processInfo.environment["FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET"] == nil {
            values["payments.callback_secret"] = UUID().uuidString
        }
        return values
    }
}
