import ArgumentParser
import LocalServices

struct Services: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Local PostgreSQL and Redis under .fastest/ (start, stop, status).",
        subcommands: [Start.self, Stop.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install what is missing, start both servers on free ports, print the settings; they run until `services stop`.")
        @Option(help: "Directory for data and logs (default .fastest/services).") var dir: String?

        func run() throws {
            for (name, value) in try LocalServices(directory: dir).start(stoppedWithThisProcess: false).sorted(by: { $0.key < $1.key }) {
                print("\(name)=\(value)")
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop both servers cleanly.")
        @Option(help: "Directory for data and logs (default .fastest/services).") var dir: String?

        func run() throws { try LocalServices(directory: dir).stop() }
    }
}
