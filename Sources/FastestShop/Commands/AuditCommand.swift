import ArgumentParser
import Postgres
import Settings
import Storage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the database invariants (stock balance, one live order and one entry per customer, no double charge, draws recomputed); exit 0 only if all hold.")

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let settings = try await settings.load()
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "audit")
        let report: InvariantAudit.Report
        do {
            report = try await pool.withConnection { try InvariantAudit.run($0) }
        } catch let error as PostgresError {
            await pool.shutdown()
            throw CommandFailure(message: "audit: \(error)")
        }
        await pool.shutdown()
        for violation in report.violations { print("audit: VIOLATION \(violation)") }
        print("audit: \(report.dropsChecked) drops, \(report.ordersChecked) orders, \(report.drawsRecomputed) draws recomputed; "
            + (report.violations.isEmpty ? "all invariants hold" : "\(report.violations.count) violations"))
        if !report.violations.isEmpty { throw ExitCode(1) }
    }
}
