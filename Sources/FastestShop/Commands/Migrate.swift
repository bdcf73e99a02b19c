import ArgumentParser
import Postgres
import Settings
import Storage

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply database migrations (idempotent).")

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let settings = try await settings.load()
        let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "migrate")
        defer { Task { await pool.shutdown() } }
        let applied: [String]
        do {
            applied = try await Migrator().migrate(pool)
        } catch let error as PostgresError {
            throw CommandFailure(message: "migrate: \(error)")
        }
        if applied.isEmpty {
            print("migrate: database is up to date")
        } else {
            for name in applied { print("migrate: applied \(name)") }
        }
        await pool.shutdown()
    }
}
