import ChildProcesses
import Foundation

/// A command-line tool a benchmark compares our clients with (`redis-benchmark`, `psql`).
public struct ReferenceTool: Sendable {
    public let name: String
    public let path: String

    /// Finds `name` on `PATH`, then in `extraDirectories` (glob patterns such as
    /// `/usr/lib/postgresql/*/bin`, which hold the PostgreSQL tools on Debian).
    public static func find(_ name: String, extraDirectories: [String] = []) throws -> ReferenceTool {
        let environment = ProcessInfo.processInfo.environment
        var directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for pattern in extraDirectories { directories += expand(pattern) }
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return ReferenceTool(name: name, path: candidate)
            }
        }
        throw BenchmarkError("\(name) not found on PATH (install it: scripts/services install)")
    }

    /// Runs the tool to completion; returns its standard output, or throws with its standard
    /// error when it fails. Blocks the calling thread: the benchmark times the tool from here.
    public func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> String {
        let completion = try ChildProcess.runToCompletion(
            executable: path, arguments: arguments,
            environment: ChildProcess.currentEnvironment().merging(extra) { _, new in new })
        guard completion.status == 0 else {
            throw BenchmarkError(
                "\(name) \(arguments.joined(separator: " ")) failed (\(completion.status)): \(completion.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return completion.output
    }

    private static func expand(_ pattern: String) -> [String] {
        guard let star = pattern.firstIndex(of: "*") else { return [pattern] }
        let parent = String(pattern[..<star].dropLast())
        let suffix = String(pattern[pattern.index(after: star)...])
        let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        // Highest version first.
        return children.sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { parent + "/" + $0 + suffix }
    }
}

/// A benchmark that cannot run or whose results are not trustworthy.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
