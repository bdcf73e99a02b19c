import ArgumentParser
import Bench
import Foundation

/// `fastest-shop bench failover`: the failover drill (see ``FailoverDrill``).
struct BenchFailover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Kill a Redis master, the PostgreSQL primary, a serve, a worker and the scheduler leader during a rush and a draw.",
        discussion: """
            Starts its own cluster with scripts/cluster up (under .fastest/cluster-drill-*; stopped at the end).
            Keys: acknowledged_entries, entries_in_db, oversold, double_charges, audit_ok, killed, longest_unavailable_s.
            Exits 1 when a goal is missed (entries_in_db < acknowledged_entries, oversold, double charges, audit).
            """)

    @Option(help: "Customers entering the draw over the window.") var entrants = 3000
    @Option(help: "Customers trying to buy the open-run over the window.") var buyers = 600
    @Option(help: "Units of the open-run.") var openRunStock = 40
    @Option(help: "Units of the draw.") var drawStock = 20
    @Option(help: "Seconds the drops stay open; the kills happen in this window.") var windowS = 45
    @Option(help: "Requests in flight at once.") var concurrency = 24
    @OptionGroup var bench: BenchOptions

    func run() async throws {
        var parameters = FailoverDrill.Parameters(executable: try Self.ownExecutable())
        parameters.entrants = entrants
        parameters.buyers = buyers
        parameters.openRunStock = openRunStock
        parameters.drawStock = drawStock
        parameters.windowSeconds = windowS
        parameters.concurrency = concurrency
        let result = try await FailoverDrill(parameters: parameters) { [bench] in bench.progress("failover: \($0)") }.run()
        try bench.report(result)
        if !result.holds { throw ExitCode(1) }
    }

    /// The running binary, for the cluster's roles.
    static func ownExecutable() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return path
    }
}
