import Foundation
import Postgres
import Redis
import ServiceLifecycle
import Synchronization

/// Whether PostgreSQL and Redis answer, probed in the background so `/readyz` costs no store
/// round trip and no pooled connection: a prober calling it often (or a flood of calls) can
/// neither take connections requests need nor be told "not ready" because requests hold them.
///
/// PostgreSQL is probed on the monitor's own single connection: readiness says whether the
/// database answers, not whether the request pools are momentarily busy (that is a 503 per
/// request, not a reason to take the instance out of a load balancer).
final class ReadinessMonitor: Service, Sendable {
    struct Snapshot: Sendable {
        let postgres: Bool
        let redis: Bool
        let checkedAt: ContinuousClock.Instant
    }

    /// Time between probes.
    static let interval: Duration = .milliseconds(500)
    /// Each probe answers within about this long even when a store hangs.
    static let probeTimeout: Duration = .milliseconds(800)
    /// A snapshot older than this means the monitor itself is stuck: not ready.
    static let maximumAge: Duration = .seconds(5)

    private let pool: PostgresPool
    private let redis: RedisClient
    private let state = Mutex<State>(State())

    private struct State {
        var snapshot: Snapshot?
        /// Readers that arrived before the first probe finished.
        var waiters: [CheckedContinuation<Snapshot, Never>] = []
    }

    init(postgres: PostgresConfiguration, redis: RedisClient) {
        pool = PostgresPool(configuration: postgres, size: 1, name: "readiness-pg")
        self.redis = redis
    }

    /// The latest probe's result; the first one is awaited (a server just started answers
    /// `/readyz` once it knows), later ones are read without waiting.
    func current() async -> Snapshot {
        if let snapshot = state.withLock({ $0.snapshot }) { return snapshot }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Snapshot? in
                if let snapshot = state.snapshot { return snapshot }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                while !Task.isCancelled {
                    await probe()
                    try? await Task.sleep(for: Self.interval)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await pool.shutdown()
    }

    /// Probes both stores once and publishes the result.
    func probe() async {
        async let postgresUp = Self.answers { [pool] in try await pool.query("SELECT 1") }
        async let redisUp = Self.answers { [redis] in try await redis.execute("PING") }
        let snapshot = Snapshot(postgres: await postgresUp, redis: await redisUp, checkedAt: .now)
        let waiters = state.withLock { state in
            state.snapshot = snapshot
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: snapshot) }
    }

    /// Whether `probe` succeeds within ``probeTimeout``.
    static func answers(_ probe: @escaping @Sendable () async throws -> some Sendable) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await probe()) != nil }
            group.addTask {
                try? await Task.sleep(for: probeTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
