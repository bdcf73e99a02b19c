import ChildProcesses
import Foundation
import Testing

/// The project's one spawn API, on `/bin/sh` (no services needed).
@Suite struct ChildProcessTests {
    @Test func aProgramRunToCompletionGivesItsStatusAndBothOutputs() throws {
        let completion = try ChildProcess.runToCompletion(
            executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"])
        #expect(completion.status == 3)
        #expect(completion.output == "out\n")
        #expect(completion.errorOutput == "err\n")
    }

    @Test func aChildSeesOnlyStandardDescriptorsAndTheEnvironmentItIsGiven() async throws {
        // A descriptor of ours that a child (or a daemon it starts) inherited would stay open
        // for the child's whole life.
        let pipe = Pipe()
        defer { try? pipe.fileHandleForReading.close() }
        let completion = try await ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "ls /proc/$$/fd; echo \"var=$ONLY_THIS\""],
            environment: ["ONLY_THIS": "yes", "PATH": "/usr/bin:/bin"])
        let lines = completion.output.split(separator: "\n")
        #expect(lines.last == "var=yes")
        let descriptors = lines.dropLast().compactMap { Int($0) }.sorted()
        #expect(
            descriptors.allSatisfy { $0 <= 3 },
            "descriptors \(descriptors): ours leaked into the child (pipe \(pipe.fileHandleForWriting.fileDescriptor))")
    }

    @Test func killEndsTheChildAndReportsTheSignal() throws {
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["60"], environment: [:])
        #expect(child.isRunning)
        child.kill()
        #expect(!child.isRunning)
        #expect(child.waitBlocking() == 128 + SIGKILL)
    }

    @Test func terminateAsksFirstThenWaits() async throws {
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["60"], environment: [:])
        #expect(await child.terminate(grace: .seconds(5)) == 128 + SIGTERM)
        #expect(try await child.waitForExit(timeout: .zero) == 128 + SIGTERM)
    }

    @Test func aChildTiedToItsParentIsToldTheParentsPID() throws {
        let tied = try ChildProcess.runToCompletion(
            executable: "/bin/sh", arguments: ["-c", "echo \"$FASTEST_SHOP_PARENT_PID\""], environment: [:])
        #expect(tied.output == "\(getpid())\n")
        let untied = try ChildProcess.runToCompletion(
            executable: "/bin/sh", arguments: ["-c", "echo \"[$FASTEST_SHOP_PARENT_PID]\""],
            environment: [ParentWatch.environmentVariable: "1"], tiedToParent: false)
        #expect(untied.output == "[]\n")
    }

    @Test func aMissingProgramIsAClearError() {
        #expect(throws: ChildProcessError.self) {
            _ = try ChildProcess(executable: "/nonexistent/program", arguments: [], environment: [:])
        }
    }
}
