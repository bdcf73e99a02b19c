import ChildProcesses
import Foundation

/// The project's own PostgreSQL and Redis, started by `scripts/services` on free local ports.
///
/// The shell script is the single implementation (it must also run before anything is built, to
/// install the C libraries); this type finds it, runs it and reads the settings it prints.
public struct LocalServices: Sendable {
    /// Where the servers keep their data, logs and `env` file.
    public let directory: String
    public let script: String

    /// The environment variable that moves the default directory (tests give `dev` its own).
    public static let directoryVariable = "FASTEST_SHOP_SERVICES_DIR"

    /// `directory`, else `$FASTEST_SHOP_SERVICES_DIR`, else `.fastest/services` in the repository.
    public init(directory: String? = nil) throws {
        let script = try Self.findScript()
        self.script = script
        let repository = URL(fileURLWithPath: script).deletingLastPathComponent().deletingLastPathComponent().path
        self.directory =
            directory ?? ProcessInfo.processInfo.environment[Self.directoryVariable]
            ?? repository + "/.fastest/services"
    }

    /// What ``start(stoppedWithThisProcess:)`` found.
    public struct Started: Sendable {
        /// The connection settings as `FASTEST_SHOP_*` environment variables.
        public let settings: [String: String]
        /// The servers this call started (the others were already running: somebody else's).
        public let started: [Server]
    }

    /// Starts whatever is not running (installing missing packages first) and returns the
    /// connection settings as `FASTEST_SHOP_*` environment variables.
    ///
    /// With `stoppedWithThisProcess` (the default), the servers this call starts are stopped when
    /// this process ends, however it ends: the script leaves a watchdog that stops them once
    /// our pid is gone, so a parent killed with SIGKILL leaves no server behind. Servers that
    /// were already running are adopted and never stopped on our account.
    @discardableResult
    public func start(stoppedWithThisProcess: Bool = true) throws -> [String: String] {
        try startReporting(stoppedWithThisProcess: stoppedWithThisProcess).settings
    }

    /// Like ``start(stoppedWithThisProcess:)``, also telling which servers this call started.
    public func startReporting(stoppedWithThisProcess: Bool = true) throws -> Started {
        var arguments = ["start", "--dir", directory]
        if stoppedWithThisProcess { arguments += ["--owner", String(getpid())] }
        let output = try run(arguments)
        var settings: [String: String] = [:]
        var started: [Server] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("# started:") {
                started = line.dropFirst("# started:".count).split(separator: " ").compactMap { Server(rawValue: String($0)) }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard settings["FASTEST_SHOP_POSTGRES_PORT"] != nil, settings["FASTEST_SHOP_REDIS_PORT"] != nil else {
            throw LocalServicesError(message: "scripts/services start printed no connection settings")
        }
        return Started(settings: settings, started: started)
    }

    public func stop() throws { _ = try run(["stop", "--dir", directory]) }

    public enum Server: String, Sendable { case postgres, redis }

    /// Stops and starts one server on the same port with the same data.
    public func restart(_ server: Server) throws { _ = try run(["restart", server.rawValue, "--dir", directory]) }

    /// Only stops one server (for tests of outages, and for stopping what ``startReporting``
    /// started); `start()` brings it back.
    public func stopOnly(_ server: Server) throws {
        _ = try run(["stop-one", server.rawValue, "--dir", directory])
    }

    private func run(_ arguments: [String]) throws -> String {
        let completion = try ChildProcess.runToCompletion(
            executable: "/bin/bash", arguments: [script] + arguments, tiedToParent: false)
        guard completion.status == 0 else {
            let message = completion.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            throw LocalServicesError(message: "scripts/services \(arguments.joined(separator: " ")) failed: \(message)")
        }
        return completion.output
    }

    /// `scripts/services`, searched upwards from the working directory and from the executable.
    static func findScript() throws -> String {
        var starts = [FileManager.default.currentDirectoryPath]
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        for start in starts {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent("scripts/services").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw LocalServicesError(message: "cannot find scripts/services; run from the fastest-shop repository")
    }
}

public struct LocalServicesError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
