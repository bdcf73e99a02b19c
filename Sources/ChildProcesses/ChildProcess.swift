import CProcessShims
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process: spawned with `posix_spawn`, reaped with `waitpid`, killed when its owner
/// goes away. The project's one way to start another program (the roles started by tests and
/// benchmarks, `scripts/services`, the reference tools a benchmark compares with).
///
/// Why not Foundation's `Process`: on Linux, with this toolchain, `Process.run()` over-reads
/// `d_name` while it closes descriptors in the child and crashes the parent at random (about one
/// run in five of a test suite that spawns children). `posix_spawn` from glibc does that work in
/// the C library, and every call here is synchronous and bounded, so a child can be started and
/// killed from a `deinit` or a test's cleanup.
///
/// A child sees only standard input, output and error of ours: every other descriptor is closed
/// on spawn, so a daemon it starts can never hold one of our pipes or sockets open. Signal mask
/// and dispositions start from the defaults, whatever this process's threads have blocked.
///
/// With `tiedToParent` (the default) the child's environment carries
/// ``ParentWatch/environmentVariable`` with our pid; a `fastest-shop` child watches for our death
/// and stops itself (``ParentWatch``), so no role outlives the test or benchmark that started it,
/// even when that one is killed with SIGKILL.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The exit status once reaped; `nil` while the child runs.
    private let reaped = Mutex<Int32?>(nil)

    /// Where a child's standard output or error goes.
    public enum Destination: Sendable, Equatable {
        /// `/dev/null`.
        case discard
        /// A file, created with mode 0600 or truncated.
        case file(String)
        /// A file, appended to.
        case appendingTo(String)
        /// Ours.
        case inherit
    }

    /// Starts `executable` with `arguments` and exactly `environment` (pass
    /// ``currentEnvironment()`` merged with changes to inherit ours).
    public init(
        executable: String, arguments: [String], environment: [String: String],
        workingDirectory: String? = nil,
        standardOutput: Destination = .discard, standardError: Destination = .discard,
        tiedToParent: Bool = true
    ) throws(ChildProcessError) {
        var environment = environment
        if tiedToParent {
            environment[ParentWatch.environmentVariable] = String(getpid())
        } else {
            environment.removeValue(forKey: ParentWatch.environmentVariable)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        Self.redirect(1, to: standardOutput, actions: &actions)
        if standardError == standardOutput, standardOutput != .inherit, standardOutput != .discard {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            Self.redirect(2, to: standardError, actions: &actions)
        }
        fs_spawn_file_actions_addclosefrom(&actions, 3)
        if let workingDirectory {
            fs_spawn_file_actions_addchdir(&actions, workingDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw ChildProcessError(code: .cannotSpawn, description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Our own environment, to pass on with changes.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    /// The first directory on `PATH` (then in `extraDirectories`) holding an executable `name`.
    public static func find(_ name: String, extraDirectories: [String] = []) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = currentEnvironment()["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + extraDirectories {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func redirect(_ descriptor: Int32, to destination: Destination, actions: inout posix_spawn_file_actions_t) {
        switch destination {
        case .discard: posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .appendingTo(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        case .inherit: break
        }
    }

    /// Whether the child still runs (reaps it when it has ended).
    public var isRunning: Bool { exitStatus(blocking: false) == nil }

    /// Sends `signal` unless the child has already been reaped (its pid may belong to another
    /// process by then).
    public func send(_ signal: Int32) {
        reaped.withLock { status in
            if status == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// SIGKILL, then reaps: the child is gone when this returns (SIGKILL cannot be caught, so
    /// the wait is the kernel's, not the child's).
    public func kill() {
        send(SIGKILL)
        _ = exitStatus(blocking: true)
    }

    /// Waits up to `timeout` for the child to end; its exit status, or `nil` if it still runs.
    public func waitForExit(timeout: Duration) async throws -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var pause = Duration.milliseconds(1)
        while true {
            if let status = exitStatus(blocking: false) { return status }
            if clock.now >= deadline { return nil }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// SIGTERM, up to `grace` to stop, then SIGKILL; the exit status.
    @discardableResult
    public func terminate(grace: Duration = .seconds(10)) async -> Int32 {
        send(SIGTERM)
        if let status = try? await waitForExit(timeout: grace) { return status }
        kill()
        return waitBlocking()
    }

    /// The exit code, or 128 + the signal that ended the child (the shell's convention).
    ///
    /// A blocking wait happens outside the lock (`waitid` with `WNOWAIT` leaves the child a
    /// zombie, so its pid cannot be reused), so ``send(_:)`` from another thread never waits
    /// for the child to end.
    func exitStatus(blocking: Bool) -> Int32? {
        if blocking {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        }
        return reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid { break }
                if result == 0 { return nil }
                if errno == EINTR { continue }
                // ECHILD: reaped elsewhere; nothing more can be known.
                reaped = -1
                return -1
            }
            let signal = status & 0x7f
            reaped = signal == 0 ? (status >> 8) & 0xff : 128 + signal
            return reaped
        }
    }

    deinit {
        if isRunning { kill() }
    }
}

/// A failure to start a child.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        public static let cannotSpawn = Code(name: "cannot-spawn")
        public var description: String { name }
    }

    public let code: Code
    public let description: String

    public init(code: Code, description: String) {
        self.code = code
        self.description = description
    }
}
