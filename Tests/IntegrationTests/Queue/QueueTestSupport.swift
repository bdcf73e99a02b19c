import Foundation
import JobQueue
import Logging
import Redis

/// The repository's job catalog (`jobs/`), as the worker subprocesses load it.
func repositoryCatalog() throws -> JobCatalog {
    try JobCatalog.load(directory: ShopProcess.repositoryRoot + "/jobs")
}

/// Environment for a `fastest-shop worker` subprocess that shares the test's Redis namespace.
func workerEnvironment(redisPrefix: String, extra: [String: String] = [:]) async throws -> [String: String] {
    var environment = try await TestServices.shared.connectionSettings()
    environment["FASTEST_SHOP_REDIS_KEY_PREFIX"] = redisPrefix
    environment["FASTEST_SHOP_JOBS_CATALOG"] = ShopProcess.repositoryRoot + "/jobs"
    environment["FASTEST_SHOP_LOG_LEVEL"] = "info"
    environment.merge(extra) { _, new in new }
    return environment
}

/// A probe job payload; its runs are counted under `key` in Redis.
func probePayload(key: String, sleepMilliseconds: Int = 0, sleepStarts: Int? = nil, failTimes: Int = 0) -> String {
    let sleepStartsField = sleepStarts.map { ",\"sleep_starts\":\($0)" } ?? ""
    return "{\"key\":\"\(key)\",\"sleep_ms\":\(sleepMilliseconds)\(sleepStartsField),\"fail_times\":\(failTimes)}"
}

extension RedisClient {
    func integer(_ key: String) async throws -> Int {
        let reply = try await send(RedisCommand("GET", key))
        return reply.isNull ? 0 : try reply.requireInt()
    }

    func list(_ key: String) async throws -> [String] {
        try await send(RedisCommand("LRANGE", key, 0, -1)).requireArray().compactMap(\.string)
    }
}

let testLogger = Logger(label: "tests")
