import Foundation
import Redis

/// `noop`: does nothing. The queue benchmark measures the queue itself with it.
public struct NoopJobHandler: JobHandler {
    public init() {}
    public func handle(_ context: JobContext) async throws {}
}

/// `probe`: proves a worker fleet works end to end. Payload `{"key": K, "sleep_ms": N,
/// "sleep_starts": S, "fail_times": F}`: counts each start in `K:starts`, sleeps N ms (only during
/// the first S starts of the key, when given), fails while fewer than F+1
/// starts happened, and on success counts `K:completions` and appends the job id to `K:completed`.
public struct ProbeJobHandler: JobHandler {
    struct Payload: Decodable {
        let key: String
        let sleep_ms: Int?
        let sleep_starts: Int?
        let fail_times: Int?
    }

    let redis: RedisClient

    public init(redis: RedisClient) { self.redis = redis }

    public func handle(_ context: JobContext) async throws {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(context.payload.utf8)) else {
            throw PermanentJobFailure("probe payload is not {\"key\": …}")
        }
        let starts = try await redis.execute("INCR", payload.key + ":starts").requireInt()
        if let sleep = payload.sleep_ms, sleep > 0, starts <= payload.sleep_starts ?? .max {
            try await Task.sleep(for: .milliseconds(sleep))
        }
        if starts <= payload.fail_times ?? 0 {
            throw ProbeFailure(start: starts)
        }
        _ = try await redis.pipeline([
            RedisCommand("INCR", payload.key + ":completions"),
            RedisCommand("RPUSH", payload.key + ":completed", context.id),
        ])
    }

    struct ProbeFailure: Error, CustomStringConvertible {
        let start: Int
        var description: String { "probe asked to fail (start \(start))" }
    }
}
