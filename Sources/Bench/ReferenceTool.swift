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
    /// error when it fails.
    public func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting, so a chatty tool never blocks on a full pipe.
        let errorData = LockedData()
        let errorReader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = String(decoding: errorData.waitForValue(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchmarkError("\(name) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(errorText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: outputData, as: UTF8.self)
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

/// Data handed from a reader thread to the thread waiting for it.
private final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    func set(_ data: Data) {
        condition.lock()
        value = data
        condition.broadcast()
        condition.unlock()
    }

    func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}

/// A benchmark that cannot run or whose results are not trustworthy.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
