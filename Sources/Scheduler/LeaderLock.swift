import BlockingThreads
import Postgres

/// Leadership among schedulers: a PostgreSQL session-level advisory lock held on a connection
/// of its own, plus a term number incremented by each new leader (a fencing token).
///
/// The lock is released by the server the moment the holder's session ends, so a standby takes
/// over within one of its polling intervals after the leader dies, and a leader whose connection
/// broke knows it may no longer be leading. The connection is never silently replaced: a new
/// connection would not hold the lock.
final class LeaderLock: Sendable {
    static let lockKey = 7_357_002

    private let thread: DedicatedThread
    private let holder = ConnectionHolder()
    private let configuration: PostgresConfiguration
    private let candidate: String

    private final class ConnectionHolder: @unchecked Sendable {
        // Only touched on `thread`.
        var connection: PostgresConnection?
    }

    init(configuration: PostgresConfiguration, candidate: String) {
        var configuration = configuration
        configuration.applicationName = "fastest-shop-scheduler-lock"
        self.configuration = configuration
        self.candidate = candidate
        self.thread = DedicatedThread(name: "leader-lock")
    }

    /// Tries to become leader; returns the new term, or nil when another scheduler leads.
    func tryAcquire() async throws -> Int? {
        try await thread.run { [holder, configuration, candidate] in
            if holder.connection.map({ !$0.isHealthy }) ?? true {
                holder.connection = try PostgresConnection(configuration: configuration)
            }
            guard let connection = holder.connection else { return nil }
            do {
                let locked = try connection.query("SELECT pg_try_advisory_lock($1)", [.int(Self.lockKey)])
                guard try locked[0].bool(0) else { return nil }
                let term = try connection.query(
                    """
                    INSERT INTO scheduler_leadership (singleton, term, holder) VALUES (true, 1, $1)
                    ON CONFLICT (singleton) DO UPDATE
                    SET term = scheduler_leadership.term + 1, holder = EXCLUDED.holder, elected_at = now()
                    RETURNING term
                    """, [.text(candidate)])
                return try term[0].int(0)
            } catch {
                holder.connection = nil
                throw error
            }
        }
    }

    /// Whether this process still holds the lock (its session is alive and owns it).
    func isHeld() async -> Bool {
        (try? await thread.run { [holder] in
            guard let connection = holder.connection, connection.isHealthy else { return false }
            let rows = try connection.query(
                """
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = $1 AND granted
                """, [.int(Self.lockKey)])
            return rows.count == 1
        }) ?? false
    }

    /// Gives leadership up (on shutdown) so a standby takes over without waiting.
    func release() async {
        _ = try? await thread.run { [holder] in
            if let connection = holder.connection, connection.isHealthy {
                try connection.query("SELECT pg_advisory_unlock($1)", [.int(Self.lockKey)])
            }
            holder.connection = nil
        }
    }

    func shutdown() {
        thread.submit { [holder] in holder.connection = nil }
        thread.shutdown()
    }
}
