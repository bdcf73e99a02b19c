import BlockingThreads
import Foundation
import LocalServices
import Postgres
import Redis

/// A PostgreSQL and Redis of a test's own, for tests that stop or restart a server.
///
/// The shared services stay untouched: this instance lives in a fresh directory under
/// `.fastest/scratch/`, on its own ports, and is stopped and deleted when the test ends.
struct ScratchServices: Sendable {
    let services: LocalServices
    let settings: [String: String]

    var postgresConfiguration: PostgresConfiguration {
        PostgresConfiguration(
            host: settings["FASTEST_SHOP_POSTGRES_HOST"] ?? "127.0.0.1",
            port: Int(settings["FASTEST_SHOP_POSTGRES_PORT"]!)!,
            database: settings["FASTEST_SHOP_POSTGRES_DATABASE"] ?? "fastest_shop",
            user: settings["FASTEST_SHOP_POSTGRES_USER"] ?? "fastest",
            password: settings["FASTEST_SHOP_POSTGRES_PASSWORD"],
            applicationName: "fastest-shop-scratch-tests",
            connectTimeoutSeconds: 10)
    }

    var redisConfiguration: RedisConfiguration {
        RedisConfiguration(
            host: settings["FASTEST_SHOP_REDIS_HOST"] ?? "127.0.0.1",
            port: Int(settings["FASTEST_SHOP_REDIS_PORT"]!)!,
            password: settings["FASTEST_SHOP_REDIS_PASSWORD"],
            connectTimeoutMilliseconds: 10_000)
    }

    /// The settings that point a `fastest-shop` process at this Redis instead of the shared one.
    var redisEnvironment: [String: String] {
        [
            "FASTEST_SHOP_REDIS_PORT": settings["FASTEST_SHOP_REDIS_PORT"]!,
            "FASTEST_SHOP_REDIS_PASSWORD": settings["FASTEST_SHOP_REDIS_PASSWORD"] ?? "",
        ]
    }

    /// Stops and starts one server on the same port with the same data.
    func restart(_ server: LocalServices.Server) async throws {
        try await runBlocking { try services.restart(server) }
    }

    /// Freezes one server (SIGSTOP to it and, for PostgreSQL, every backend): its sockets stay
    /// open and accept data, but nothing answers — a hung server, or one behind a network that
    /// drops packets. ``thaw(_:)`` lets it go on.
    func freeze(_ server: LocalServices.Server) throws {
        for pid in try processes(of: server) { kill(pid, SIGSTOP) }
    }

    func thaw(_ server: LocalServices.Server) throws {
        for pid in try processes(of: server) { kill(pid, SIGCONT) }
    }

    private func processes(of server: LocalServices.Server) throws -> [pid_t] {
        let pidFile = services.directory + (server == .postgres ? "/postgres/postmaster.pid" : "/redis.pid")
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        guard let main = text.split(separator: "\n").first.flatMap({ pid_t($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw ScratchServicesError(message: "no pid in \(pidFile)")
        }
        guard server == .postgres else { return [main] }
        // The backends and helpers are the postmaster's children.
        let children = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(pid_t.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == main
        }
        return [main] + children
    }
}

/// Runs `body` with a scratch instance of both servers, then stops it and deletes its directory.
func withScratchServices<T>(_ body: (ScratchServices) async throws -> T) async throws -> T {
    try await TestSlots.scratchServices.withSlot { try await withScratchServicesNow(body) }
}

private func withScratchServicesNow<T>(_ body: (ScratchServices) async throws -> T) async throws -> T {
    let repository = URL(fileURLWithPath: try LocalServices().script)
        .deletingLastPathComponent().deletingLastPathComponent()
    let directory =
        repository
        .appendingPathComponent(".fastest/scratch/\(UUID().uuidString.lowercased().prefix(13))").path
    let services = try LocalServices(directory: directory)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let settings: [String: String]
    do {
        settings = try await runBlocking { try services.start() }
    } catch {
        // The directory is deleted below: keep what its logs say in the error.
        let logs = ["redis.log", "postgres.log", "initdb.log"].compactMap { name -> String? in
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else { return nil }
            return "\(name): " + text.split(separator: "\n").suffix(5).joined(separator: " | ")
        }
        try? await runBlocking { try services.stop() }
        throw ScratchServicesError(message: "\(error)\n" + logs.joined(separator: "\n"))
    }
    let scratch = ScratchServices(services: services, settings: settings)
    // A scratch instance that turned out to be the shared one would have the test restart
    // servers every other test uses: refuse loudly.
    let shared = try await TestServices.shared.connectionSettings()
    for port in ["FASTEST_SHOP_POSTGRES_PORT", "FASTEST_SHOP_REDIS_PORT"] where settings[port] == shared[port] {
        try? await runBlocking { try services.stop() }
        throw ScratchServicesError(message: "scratch services in \(directory) report the shared \(port) \(shared[port] ?? "")")
    }
    do {
        let value = try await body(scratch)
        try await runBlocking { try services.stop() }
        return value
    } catch {
        try? await runBlocking { try services.stop() }
        throw error
    }
}

/// Runs blocking work (a child process, a blocking client call) on a thread of its own, so the
/// cooperative pool that every test shares is never blocked.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await DetachedThread.value(name: "test-blocking", body)
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held. For states that
/// can only be observed from outside (a statement visible in `pg_stat_activity`, a blocked client).
func eventually(
    within seconds: Double = 10,
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

struct ScratchServicesError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
