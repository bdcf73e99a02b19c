import ChildProcesses
import Foundation
import Testing

/// A `fastest-shop` subprocess (worker, scheduler, serve, …) for tests that need real processes:
/// killed with SIGKILL, stopped with SIGTERM, several at once. Started through the project's one
/// spawn API, ``ChildProcess``, so it stops by itself when the test process dies.
final class ShopProcess: Sendable {
    let child: ChildProcess
    let logFile: URL
    let arguments: [String]

    /// The binary `scripts/test` built (`FASTEST_SHOP_BIN`), or `.build/debug/fastest-shop`.
    static var binary: String {
        get throws {
            if let path = ProcessInfo.processInfo.environment["FASTEST_SHOP_BIN"] { return path }
            let path = repositoryRoot + "/.build/debug/fastest-shop"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ShopProcessError(message: "no fastest-shop binary at \(path): run `swift build` first (scripts/test does)")
            }
            return path
        }
    }

    static let repositoryRoot: String = {
        // Tests/IntegrationTests/Support/ShopProcess.swift → repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }()

    init(_ arguments: [String], environment: [String: String]) throws {
        self.arguments = arguments
        var merged = ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") }
        merged.merge(environment) { _, new in new }
        let logs = URL(fileURLWithPath: Self.repositoryRoot + "/.fastest/test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logFile = logs.appendingPathComponent("\(arguments.first ?? "process")-\(UUID().uuidString.prefix(8)).log")
        child = try ChildProcess(
            executable: try Self.binary, arguments: arguments, environment: merged, workingDirectory: Self.repositoryRoot,
            standardOutput: .file(logFile.path), standardError: .file(logFile.path))
    }

    var pid: Int32 { child.pid }
    var isRunning: Bool { child.isRunning }

    /// SIGKILL; the process is gone when this returns.
    func kill() { child.kill() }

    /// SIGTERM, then waits; returns the exit status.
    @discardableResult
    func terminate(timeout: Double = 30) async throws -> Int32 {
        child.send(SIGTERM)
        return try await waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: Double) async throws -> Int32 {
        guard let status = try await child.waitForExit(timeout: .milliseconds(Int(timeout * 1000))) else {
            kill()
            throw ShopProcessError(message: "\(arguments.joined(separator: " ")) did not exit within \(timeout) s; log: \(output)")
        }
        return status
    }

    var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
}

struct ShopProcessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Polls `condition` until it holds or `timeout` passes; fails the test with `message` if not.
func eventually(
    timeout: Double = 20, _ message: @autoclosure () -> String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out after \(timeout) s: \(message())", sourceLocation: sourceLocation)
    throw ShopProcessError(message: "timed out: \(message())")
}
