import ArgumentParser
import Postgres
import Settings
import Storage

extension Admin {
    /// `admin archive-drop ID`: detaches a settled drop's entries partition (see ``EntryArchive``).
    struct ArchiveDrop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "archive-drop",
            abstract: "Detach a settled drop's entries and keep them in the entries_archive schema; its audit bundle stays published.",
            discussion: "Refused, with one line and exit status 1, for a drop that is not settled.")

        @OptionGroup var settings: SettingsOptions
        @Argument(help: "The drop's id.") var id: Int

        func run() async throws {
            let settings = try await settings.load()
            let pool = PostgresPool(configuration: settings.postgresConfiguration, size: 1, name: "admin")
            let outcome: EntryArchive.Outcome
            do {
                outcome = try await pool.withConnection { [id] in try EntryArchive.archive($0, dropID: id) }
                await pool.shutdown()
            } catch let refusal as EntryArchive.Refusal {
                await pool.shutdown()
                throw CommandFailure(message: "admin: \(refusal)")
            } catch let error as PostgresError {
                await pool.shutdown()
                throw CommandFailure(message: "admin: \(error)")
            }
            switch outcome {
            case .archived(let table, let entries):
                print("admin: archived drop \(id): \(entries) entries detached into \(table); its audit bundle stays published")
            case .alreadyArchived(let table):
                print("admin: drop \(id) was already archived (\(table))")
            }
        }
    }
}
