import Foundation
import LocalServices
import Postgres
import Redis
import Testing

/// The PostgreSQL and Redis that `scripts/services` starts for development and tests ask for a
/// password: a loopback port is open to every account on the machine.
@Suite struct LocalServicesPasswordTests {
    private static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// The command line of a server process, as `ps` shows it to everybody.
    private static func commandLine(pidFile: String) throws -> String {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        return String(decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    private static func connects(_ configuration: PostgresConfiguration) async -> Bool {
        (try? await runBlocking { try PostgresConnection(configuration: configuration).query("SELECT 1")[0].int(0) }) == 1
    }

    private static func answersPing(_ configuration: RedisConfiguration) async -> Bool {
        let client = RedisClient(configuration: configuration, name: "password-probe")
        defer { client.shutdown() }
        guard let reply = try? await client.send(RedisCommand("PING")), case .status(let status) = reply else { return false }
        return status == "PONG"
    }

    /// Without the password, and with a wrong one, neither server lets a client in.
    private static func expectPasswordRequired(_ scratch: ScratchServices, _ comment: Comment) async {
        var postgres = scratch.postgresConfiguration
        var redis = scratch.redisConfiguration
        #expect(postgres.password?.isEmpty == false, comment)
        #expect(await connects(postgres), comment)
        #expect(await answersPing(redis), comment)
        for wrong in [nil, "not-the-password"] as [String?] {
            postgres.password = wrong
            redis.password = wrong
            #expect(!(await connects(postgres)), "PostgreSQL lets in password \(wrong ?? "<none>"): \(comment)")
            #expect(!(await answersPing(redis)), "Redis answers with password \(wrong ?? "<none>"): \(comment)")
        }
    }

    @Test func bothServersAskForAPasswordKeptOutOfSightOfOtherAccounts() async throws {
        try await withScratchServices { scratch in
            await Self.expectPasswordRequired(scratch, "fresh servers")
            let directory = scratch.services.directory
            let secret = try String(contentsOfFile: directory + "/secret", encoding: .utf8)
            #expect(secret.count >= 32)
            for file in ["secret", "env", "redis.conf"] {
                #expect(try Self.mode(directory + "/" + file) & 0o077 == 0, "\(file) is readable by other accounts")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/initdb.pw"), "initdb's copy of the password is left behind")
            for pidFile in [directory + "/postgres/postmaster.pid", directory + "/redis.pid"] {
                #expect(!(try Self.commandLine(pidFile: pidFile)).contains(secret), "the password is on a command line")
            }

            // A restart keeps asking.
            try await scratch.restart(.redis)
            try await scratch.restart(.postgres)
            await Self.expectPasswordRequired(scratch, "after restarts")
        }
    }

    @Test func serversThatAnsweredAnybodyAreMadeToAskOnTheNextStart() async throws {
        try await withScratchServices { scratch in
            let directory = scratch.services.directory
            // Undo the passwords, as in an instance made before they existed.
            let redis = RedisClient(configuration: scratch.redisConfiguration, name: "password-undo")
            _ = try await redis.send(RedisCommand("CONFIG", "SET", "requirepass", ""))
            redis.shutdown()
            let hba = directory + "/postgres/pg_hba.conf"
            let trusting = try String(contentsOfFile: hba, encoding: .utf8).replacingOccurrences(of: "scram-sha-256", with: "trust")
            try trusting.write(toFile: hba, atomically: false, encoding: .utf8)
            _ = try await runBlocking { try PostgresConnection(configuration: scratch.postgresConfiguration).query("SELECT pg_reload_conf()") }
            var open = scratch.postgresConfiguration
            open.password = nil
            var openRedis = scratch.redisConfiguration
            openRedis.password = nil
            #expect(await Self.connects(open), "the trusting cluster lets anybody in (the check below could not fail otherwise)")
            #expect(await Self.answersPing(openRedis))

            _ = try await runBlocking { try scratch.services.start(stoppedWithThisProcess: false) }
            await Self.expectPasswordRequired(scratch, "after the next start")
        }
    }
}
