import Foundation
import LocalServices
import Testing

/// `scripts/services stop` stops a server that is frozen (SIGSTOP, as the tests' `freeze` leaves
/// one when a test dies before thawing it): without thawing it first, PostgreSQL ignores the
/// request to stop and Redis's PING never answers.
@Suite struct FrozenServerStopTests {
    @Test(.timeLimit(.minutes(3)))
    func frozenServersAreStopped() async throws {
        try await withScratchServices { scratch in
            let directory = scratch.services.directory
            let postmaster = try #require(mainProcess(pidFile: directory + "/postgres/postmaster.pid"))
            let redis = try #require(mainProcess(pidFile: directory + "/redis.pid"))
            try scratch.freeze(.postgres)
            try scratch.freeze(.redis)

            try await runBlocking { try scratch.services.stop() }

            #expect(!isRunning(postmaster), "PostgreSQL (pid \(postmaster)) still runs after stop")
            #expect(!isRunning(redis), "Redis (pid \(redis)) still runs after stop")
        }
    }

    /// Alive and not a zombie: a server that exited may wait a moment to be reaped by whoever
    /// adopted it.
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    private func mainProcess(pidFile: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }
}
