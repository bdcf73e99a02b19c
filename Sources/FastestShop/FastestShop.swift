import ArgumentParser
import ChildProcesses
import Foundation
import Settings

@main
struct FastestShop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastest-shop",
        abstract: "A limited-stock drop platform: draws, raffles and open-runs.",
        subcommands: [
            Migrate.self,
            Services.self,
            WorkerCommand.self,
            JobsCommand.self,
            SchedulerCommand.self,
            AuditCommand.self,
            Verify.self,
            Serve.self,
            Admin.self,
            Bench.self,
            MockPaymentsCommand.self,
            DevCommand.self,
            DemoCommand.self,
        ]
    )

    /// Known failures (bad configuration, unreachable services, bad input) end with one line on
    /// stderr and a non-zero status instead of a stack of wrapped errors.
    static func main() async {
        StandardOutput.lineBuffered()
        ParentWatch.startIfAsked()
        ProcessSetup.keepHeapForRushes()
        ProcessSetup.bootstrapLogging()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("fastest-shop: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("fastest-shop: \(error.message)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// A command that cannot do its job, reported as one line.
struct CommandFailure: Error {
    let message: String
    var exitCode: Int32 = 1
}
