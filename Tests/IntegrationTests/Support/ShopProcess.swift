import Foundation
import Testing

/// A `fastest-shop` subprocess (worker, scheduler, serve, …) for tests that need real processes:
/// killed with SIGKILL, stopped with SIGTERM, several at once.
final class ShopProcess: @unchecked Sendable {
    let process: Process
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Self.repositoryRoot)
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FASTEST_SHOP_") }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        let logs = URL(fileURLWithPath: Self.repositoryRoot + "/.fastest/test-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        logFile = logs.appendingPathComponent("\(arguments.first ?? "process")-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        self.process = process
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then waits; returns the exit status.
    @discardableResult
    func terminate(timeout: Double = 30) async throws -> Int32 {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        return try await waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                kill()
                throw ShopProcessError(message: "\(arguments.joined(separator: " ")) did not exit within \(timeout) s; log: \(output)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit { kill() }
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
