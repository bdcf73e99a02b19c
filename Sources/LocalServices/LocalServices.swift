import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The project's own PostgreSQL and Redis, started by `scripts/services` on free local ports.
///
/// The shell script is the single implementation (it must also run before anything is built, to
/// install the C libraries); this type finds it, runs it and reads the settings it prints.
public struct LocalServices: Sendable {
    /// Where the servers keep their data, logs and `env` file.
    public let directory: String
    public let script: String

    public init(directory: String? = nil) throws {
        let script = try Self.findScript()
        self.script = script
        let repository = URL(fileURLWithPath: script).deletingLastPathComponent().deletingLastPathComponent().path
        self.directory = directory ?? repository + "/.fastest/services"
    }

    /// Starts whatever is not running (installing missing packages first) and returns the
    /// connection settings as `FASTEST_SHOP_*` environment variables.
    @discardableResult
    public func start() throws -> [String: String] {
        let output = try run(["start", "--dir", directory])
        var settings: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard settings["FASTEST_SHOP_POSTGRES_PORT"] != nil, settings["FASTEST_SHOP_REDIS_PORT"] != nil else {
            throw LocalServicesError(message: "scripts/services start printed no connection settings")
        }
        return settings
    }

    public func stop() throws { _ = try run(["stop", "--dir", directory]) }

    public enum Server: String, Sendable { case postgres, redis }

    /// Stops and starts one server on the same port with the same data.
    public func restart(_ server: Server) throws { _ = try run(["restart", server.rawValue, "--dir", directory]) }

    /// Only stops one server (for tests of outages); `start()` brings it back.
    public func stopOnly(_ server: Server) throws {
        _ = try run(["stop-one", server.rawValue, "--dir", directory])
    }

    private func run(_ arguments: [String]) throws -> String {
        // Output goes through files, not pipes: a server started by the script could keep a pipe
        // open. The child is spawned and reaped with posix_spawn/waitpid directly, because
        // Foundation's `Process.waitUntilExit` can miss the exit when called from a task.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("services-\(UUID().uuidString)").path
        defer {
            unlink(scratch + ".out")
            unlink(scratch + ".err")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, scratch + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, scratch + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ["/bin/bash", script] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, &cArguments, environ)
        guard spawned == 0 else {
            throw LocalServicesError(message: "cannot run scripts/services: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = FileManager.default.contents(atPath: scratch + ".out") ?? Data()
        let errors = FileManager.default.contents(atPath: scratch + ".err") ?? Data()
        let exited = (status & 0x7f) == 0
        guard exited && (status >> 8) & 0xff == 0 else {
            let message = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw LocalServicesError(message: "scripts/services \(arguments.joined(separator: " ")) failed: \(message)")
        }
        return String(decoding: output, as: UTF8.self)
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
