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

    private let session: ThreadConfined<PostgresConnection>
    private let candidate: String

    init(configuration: PostgresConfiguration, candidate: String) {
        var configuration = configuration
        configuration.applicationName = "fastest-shop-scheduler-lock"
        self.candidate = candidate
        self.session = ThreadConfined(
            name: "leader-lock", open: { [configuration] in try PostgresConnection(configuration: configuration) },
            isBroken: { !$0.isHealthy })
    }

    /// Tries to become leader; returns the new term, or nil when another scheduler leads.
    func tryAcquire() async throws -> Int? {
        do {
            return try await session.run { [candidate] connection in
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
            }
        } catch {
            // The session may hold the lock without a term to lead by: ending it lets the
            // server release the lock, and the next try starts from a new session.
            await session.close()
            throw error
        }
    }

    /// Whether this process still holds the lock (its session is alive and owns it). Never opens
    /// a session: a new one would not hold the lock.
    func isHeld() async -> Bool {
        (try? await session.runIfOpen { connection in
            guard let connection else { return false }
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
        _ = try? await session.runIfOpen { connection in
            try connection?.query("SELECT pg_advisory_unlock($1)", [.int(Self.lockKey)])
        }
        await session.close()
    }

    func shutdown() {
        session.shutdown()
    }
}
