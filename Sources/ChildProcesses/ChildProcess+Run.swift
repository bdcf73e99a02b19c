#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ChildProcess {
    /// What a program run to completion printed, and how it ended.
    public struct Completion: Sendable {
        public let status: Int32
        public let output: String
        public let errorOutput: String
    }

    /// Runs a program to completion, blocking the calling thread (call it from a thread of your
    /// own, never from an event loop or the cooperative pool in a hot path).
    ///
    /// Output is collected through files, not pipes: a daemon the program starts would hold a
    /// pipe open for its whole life, and a reader waiting for the pipe's end would wait as long.
    public static func runToCompletion(
        executable: String, arguments: [String], environment: [String: String] = currentEnvironment(),
        workingDirectory: String? = nil, tiedToParent: Bool = true
    ) throws(ChildProcessError) -> Completion {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            standardOutput: .file(scratch.output), standardError: .file(scratch.errors), tiedToParent: tiedToParent)
        let status = child.waitBlocking()
        return Completion(status: status, output: scratch.read(scratch.output), errorOutput: scratch.read(scratch.errors))
    }

    /// Blocks the calling thread until the child ends; its exit status.
    public func waitBlocking() -> Int32 { exitStatus(blocking: true) ?? -1 }

    /// Like ``runToCompletion(executable:arguments:environment:workingDirectory:tiedToParent:)``,
    /// but waits without holding a thread.
    public static func run(
        executable: String, arguments: [String], environment: [String: String] = currentEnvironment(),
        workingDirectory: String? = nil, tiedToParent: Bool = true
    ) async throws -> Completion {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            standardOutput: .file(scratch.output), standardError: .file(scratch.errors), tiedToParent: tiedToParent)
        let status: Int32
        do {
            status = try await child.waitForExit(timeout: .seconds(86_400 * 365)) ?? -1
        } catch {
            child.kill()
            throw error
        }
        return Completion(status: status, output: scratch.read(scratch.output), errorOutput: scratch.read(scratch.errors))
    }
}

/// A directory of its own for one child's output files.
private struct ScratchDirectory {
    let path: String
    var output: String { path + "/out" }
    var errors: String { path + "/err" }

    init() throws(ChildProcessError) {
        var template = Array("/tmp/fastest-shop-child-XXXXXX".utf8CString)
        guard let directory = mkdtemp(&template) else {
            throw ChildProcessError(code: .cannotSpawn, description: "cannot create a scratch directory: \(String(cString: strerror(errno)))")
        }
        path = String(cString: directory)
    }

    func remove() {
        unlink(output)
        unlink(errors)
        rmdir(path)
    }

    func read(_ file: String) -> String {
        guard let handle = fopen(file, "r") else { return "" }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, handle)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
