import ChildProcesses
import CurlHTTP
import Foundation
import LocalServices
import Testing

/// Nothing a parent starts outlives it: `dev`'s PostgreSQL and Redis, a harness's services and
/// its `fastest-shop` children — whether the parent stops cleanly or is killed with SIGKILL.
@Suite struct ChildLifetimeTests {
    /// A services directory of the test's own, so `dev` starts (and must stop) its own servers.
    private static func scratchDirectory() throws -> String {
        let directory = ShopProcess.repositoryRoot + "/.fastest/scratch/lifetime-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Stops whatever still runs there (when the test failed, something does), then deletes it.
    private static func cleanUp(_ directory: String) {
        if let services = try? LocalServices(directory: directory) { try? services.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The pids in a services directory's pid files (PostgreSQL's postmaster, Redis).
    private static func serverPIDs(_ directory: String) throws -> [pid_t] {
        let postgres = try String(contentsOfFile: directory + "/postgres/postmaster.pid", encoding: .utf8)
        let redis = try String(contentsOfFile: directory + "/redis.pid", encoding: .utf8)
        return try [postgres, redis].map { text in
            try #require(text.split(separator: "\n").first.flatMap { pid_t($0.trimmingCharacters(in: .whitespaces)) })
        }
    }

    /// Running and not a zombie (a zombie still answers kill(0)).
    private static func alive(_ pid: pid_t) -> Bool { ParentWatch.isRunning(pid) }

    private static func devEnvironment(_ directory: String) -> [String: String] {
        [LocalServices.directoryVariable: directory, "FASTEST_SHOP_LOG_LEVEL": "warning"]
    }

    /// Waits for dev's banner, which names the database port, through the pipe-like log file.
    private static func waitForBanner(_ dev: ShopProcess) async throws -> String {
        try await eventually(timeout: 120, "dev prints its banner; log: \(dev.output)") {
            dev.output.contains("operator ") || !dev.isRunning
        }
        #expect(dev.isRunning, "dev exited: \(dev.output)")
        return dev.output
    }

    @Test func devKilledWithSIGKILLLeavesNoPostgreSQLOrRedisRunning() async throws {
        try await TestSlots.scratchServices.withSlot {
            let directory = try Self.scratchDirectory()
            defer { Self.cleanUp(directory) }
            let dev = try ShopProcess(
                ["dev", "--port", "0", "--payments-port", "0", "--metrics-port", "0"], environment: Self.devEnvironment(directory))
            let banner = try await Self.waitForBanner(dev)
            #expect(banner.contains("PostgreSQL      127.0.0.1:"), "\(banner)")
            // The workers' and the scheduler's metrics are on in dev, at the URL its banner names.
            let metricsURL = try #require(banner.firstMatch(of: /worker metrics\s+(http:\S+\/metrics)/)?.1, "\(banner)")
            let http = CurlHTTPClient(name: "dev-metrics")
            defer { http.shutdown() }
            let metrics = try await http.execute(HTTPRequest(url: String(metricsURL))).bodyText
            for name in [
                "fastest_jobs_processed_total", "fastest_charges_total", "fastest_payment_provider_latency_seconds_bucket",
                "fastest_scheduler_ticks_total",
            ] {
                #expect(metrics.contains(name), "\(name) in \(metrics.prefix(3000))")
            }
            let servers = try Self.serverPIDs(directory)
            #expect(servers.allSatisfy(Self.alive), "the servers dev started run while it runs")

            dev.kill()
            try await eventually(timeout: 15, "PostgreSQL \(servers[0]) and Redis \(servers[1]) stop after dev is killed") {
                !servers.contains(where: Self.alive)
            }
        }
    }

    @Test func devStoppedWithSIGINTStopsTheServersItStartedAndLeavesOthersAlone() async throws {
        try await TestSlots.scratchServices.withSlot {
            // Servers that were running before dev are somebody else's: dev must leave them.
            let directory = try Self.scratchDirectory()
            let mine = try LocalServices(directory: directory)
            _ = try await runBlocking { try mine.start(stoppedWithThisProcess: false) }
            defer {
                Self.cleanUp(directory)
            }
            let adopted = try Self.serverPIDs(directory)
            let adopting = try ShopProcess(
                ["dev", "--port", "0", "--payments-port", "0", "--metrics-port", "0"], environment: Self.devEnvironment(directory))
            _ = try await Self.waitForBanner(adopting)
            adopting.child.send(SIGINT)
            #expect(try await adopting.waitForExit(timeout: 60) == 0, "\(adopting.output)")
            #expect(adopted.allSatisfy(Self.alive), "servers dev did not start are left running")

            // Servers dev started itself stop with it.
            let own = try Self.scratchDirectory()
            defer { Self.cleanUp(own) }
            let dev = try ShopProcess(["dev", "--port", "0", "--payments-port", "0", "--metrics-port", "0"], environment: Self.devEnvironment(own))
            _ = try await Self.waitForBanner(dev)
            let servers = try Self.serverPIDs(own)
            dev.child.send(SIGINT)
            #expect(try await dev.waitForExit(timeout: 60) == 0, "\(dev.output)")
            #expect(dev.output.contains("fastest-shop dev stopped (and the postgres and redis it started)"), "\(dev.output)")
            #expect(!servers.contains(where: Self.alive), "no server dev started survives its clean stop")
        }
    }

    @Test func devPipedIntoAReaderPrintsItsBannerAtOnce() async throws {
        try await TestSlots.scratchServices.withSlot {
            let directory = try Self.scratchDirectory()
            defer { Self.cleanUp(directory) }
            // stdout is a pipe here (dev | cat > file), where a block buffer would hold the banner
            // until dev exits.
            let output = directory + "/banner.txt"
            let harness = try ChildProcess(
                executable: "/bin/bash",
                arguments: ["-c", #""$0" dev --port 0 --payments-port 0 --metrics-port 0 | cat > "$1""#, try ShopProcess.binary, output],
                environment: ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") }
                    .merging(Self.devEnvironment(directory)) { _, new in new },
                workingDirectory: ShopProcess.repositoryRoot)
            defer { harness.kill() }
            try await eventually(timeout: 120, "the banner reaches the pipe while dev runs") {
                ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("operator ")
            }
            #expect(harness.isRunning, "dev still runs: the banner came through the pipe, not at exit")
            // The pipeline's bash was started by us (tied to this process), dev by that bash:
            // stop dev the way Ctrl-C in a terminal would.
            let devPIDs = try Self.childPIDs(of: harness.pid)
            for pid in devPIDs { kill(pid, SIGINT) }
            #expect(try await harness.waitForExit(timeout: .seconds(60)) != nil)
        }
    }

    @Test func aHarnessKilledWithSIGKILLTakesItsServicesAndChildrenWithIt() async throws {
        try await TestSlots.scratchServices.withSlot {
            let directory = try Self.scratchDirectory()
            defer { Self.cleanUp(directory) }
            // A harness like scripts/test: it starts services owned by itself, then a
            // fastest-shop child tied to it (the variable ChildProcess sets), then waits.
            let script = """
                set -e
                eval "$(scripts/services start --dir "$1" --owner $$ | grep '^FASTEST_SHOP_' | sed 's/^/export /')"
                FASTEST_SHOP_PARENT_PID=$$ FASTEST_SHOP_PAYMENTS_SECRET=harness-secret-0123456789-0123456789 \\
                  FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET=harness-callback-0123456789-0123456789 \\
                  "$2" mock-payments --port 0 > "$1/mock.log" 2>&1 &
                echo $! > "$1/mock.pid"
                wait
                """
            let harness = try ChildProcess(
                executable: "/bin/bash", arguments: ["-c", script, "harness", directory, try ShopProcess.binary],
                environment: ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") },
                workingDirectory: ShopProcess.repositoryRoot,
                standardOutput: .file(directory + "/harness.log"), standardError: .file(directory + "/harness.log"))
            defer { harness.kill() }
            try await eventually(timeout: 120, "the harness started its services and its child") {
                FileManager.default.fileExists(atPath: directory + "/mock.pid") && FileManager.default.fileExists(atPath: directory + "/redis.pid")
            }
            let mock = try #require(
                pid_t(
                    try String(contentsOfFile: directory + "/mock.pid", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)))
            let servers = try Self.serverPIDs(directory)
            #expect(([mock] + servers).allSatisfy(Self.alive))

            harness.kill()
            let stopped = try await eventually(within: 30) { !([mock] + servers).contains(where: Self.alive) }
            if !stopped {
                // The directory is deleted on the way out: say here what its logs saw.
                let logs = ["harness.log", "watchdog.log", "mock.log", "owned"].map { name in
                    "\(name): " + ((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "(none)")
                }
                let states = ([mock] + servers).map { "\($0): " + ((try? String(contentsOfFile: "/proc/\($0)/stat", encoding: .utf8)) ?? "gone") }
                Issue.record("still running after the harness was killed: \(states)\n\(logs.joined(separator: "\n"))")
            }
        }
    }

    @Test func aChildWhoseParentWasKilledButNotYetReapedEndsItself() async throws {
        // A parent killed while its child was still starting may not be reaped yet when the child
        // looks: a zombie answers kill(0), but it has ended, and the child has a new parent.
        let parent = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "exit 0"], environment: [:])
        defer { parent.kill() }
        try await eventually(timeout: 20, "the shell has ended and waits to be reaped") {
            ((try? String(contentsOfFile: "/proc/\(parent.pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
        }
        // The variable names the dead parent; our own pid is the child's real parent.
        let child = try ChildProcess(
            executable: "/bin/bash",
            arguments: ["-c", #"FASTEST_SHOP_PARENT_PID=$1 exec "$0" mock-payments --port 0"#, try ShopProcess.binary, String(parent.pid)],
            environment: ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") }.merging([
                "FASTEST_SHOP_PAYMENTS_SECRET": "orphan-secret-0123456789-0123456789",
                "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET": "orphan-callback-0123456789-0123456789",
                "FASTEST_SHOP_LOG_LEVEL": "warning",
            ]) { _, new in new },
            workingDirectory: ShopProcess.repositoryRoot, tiedToParent: false)
        defer { child.kill() }
        #expect(try await child.waitForExit(timeout: .seconds(60)) != nil, "a child whose parent is a zombie keeps running")
    }

    @Test func servicesOwnedByAKilledButNotYetReapedProcessStop() async throws {
        try await TestSlots.scratchServices.withSlot {
            let directory = try Self.scratchDirectory()
            defer { Self.cleanUp(directory) }
            // The owner's pid and start time still stand in /proc while it is a zombie; it has ended.
            let owner = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "sleep 600"], environment: [:])
            defer { owner.kill() }
            let started = try await runBlocking {
                try ChildProcess.runToCompletion(
                    executable: ShopProcess.repositoryRoot + "/scripts/services",
                    arguments: ["start", "--dir", directory, "--owner", String(owner.pid)],
                    environment: ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") })
            }
            #expect(started.status == 0, "\(started.errorOutput)")
            let servers = try Self.serverPIDs(directory)
            #expect(servers.allSatisfy(Self.alive))
            owner.send(SIGKILL)
            let stopped = try await eventually(within: 60) { !servers.contains(where: Self.alive) }
            #expect(stopped, "servers \(servers) run on while their owner \(owner.pid) is a zombie")
        }
    }

    /// A caller that asks for the services in the second between their owner's end and its
    /// watchdog's next poll takes them over (or, if the watchdog is already stopping them, waits
    /// and starts its own): either way they run while the new owner does, and stop with it.
    /// Before, it adopted servers that the old watchdog stopped a moment later (two `bench` runs
    /// one after the other: the second lost PostgreSQL mid-run).
    @Test func servicesWhoseOwnerJustEndedAreTakenOverByTheNextOwner() async throws {
        try await TestSlots.scratchServices.withSlot {
            let directory = try Self.scratchDirectory()
            defer { Self.cleanUp(directory) }
            let environment = ChildProcess.currentEnvironment().filter { !$0.key.hasPrefix("FASTEST_SHOP_") }
            func start(owner: ChildProcess) async throws -> ChildProcess.Completion {
                try await runBlocking {
                    try ChildProcess.runToCompletion(
                        executable: ShopProcess.repositoryRoot + "/scripts/services",
                        arguments: ["start", "--dir", directory, "--owner", String(owner.pid)], environment: environment)
                }
            }
            let first = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "sleep 600"], environment: [:])
            defer { first.kill() }
            #expect(try await start(owner: first).status == 0)
            let second = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "sleep 600"], environment: [:])
            defer { second.kill() }
            first.send(SIGKILL)
            let taken = try await start(owner: second)
            #expect(taken.status == 0, "\(taken.errorOutput)")
            #expect(taken.output.contains("# started: postgres redis"), "\(taken.output)")
            let servers = try Self.serverPIDs(directory)
            // Past the old watchdog's poll: the servers still run, for their new owner.
            try await Task.sleep(for: .seconds(3))
            #expect(servers.allSatisfy(Self.alive), "servers \(servers) stopped although their new owner runs")
            second.send(SIGKILL)
            let stopped = try await eventually(within: 60) { !servers.contains(where: Self.alive) }
            #expect(stopped, "servers \(servers) run on after their new owner \(second.pid) ended")
        }
    }

    @Test func theSuiteNeverUsesFoundationsProcess() throws {
        // Foundation's Process crashes at random on Linux with this toolchain; ChildProcess is
        // the one way to start a program. This keeps it from coming back.
        let root = ShopProcess.repositoryRoot
        var offenders: [String] = []
        for folder in ["Sources", "Tests"] {
            guard let files = FileManager.default.enumerator(atPath: root + "/" + folder) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: root + "/" + folder + "/" + file, encoding: .utf8)
                if text.contains(/(^|[^A-Za-z])Process\(\)/) || text.contains("Foundation." + "Process") {
                    offenders.append(folder + "/" + file)
                }
            }
        }
        #expect(offenders.isEmpty, "Foundation's Process is used in \(offenders)")
    }

    private static func childPIDs(of parent: pid_t) throws -> [pid_t] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(pid_t.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }
    }
}
