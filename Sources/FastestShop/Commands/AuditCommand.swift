import ArgumentParser
import Postgres
import Settings
import Storage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Check the database invariants (stock balance, one live order and one entry per customer, no double charge, money follows units, draws recomputed); exit 0 only if all hold, 1 on a violation, 2 when the database cannot be checked."
    )

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let settings = try await settings.load()
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "audit")
        let report: InvariantAudit.Report
        do {
            let progress = TerminalProgress("audit")
            report = try await pool.withConnection { try InvariantAudit.run($0, progress: { progress.update($0) }) }
            progress.finish()
        } catch {
            // Not a verdict: a database that cannot be read exits 2, never 1 ("a violation").
            await pool.shutdown()
            throw CommandFailure(message: "audit: cannot check the database: \(error)", exitCode: 2)
        }
        await pool.shutdown()
        for violation in report.violations { print("audit: VIOLATION \(violation)") }
        print(
            "audit: \(report.dropsChecked) drops, \(report.ordersChecked) orders, \(report.drawsRecomputed) draws recomputed, "
                + "\(report.refundsInProgress) refunds in progress; "
                + (report.violations.isEmpty ? "all invariants hold" : "\(report.violations.count) violations"))
        if !report.violations.isEmpty { throw ExitCode(1) }
    }
}
