import Redis
import Synchronization

/// Redis's clock as seen from this process, for deadlines Redis itself checks.
///
/// The admission script refuses a decision reached after the client's deadline, by Redis's own
/// clock (`TIME`). A deadline computed from this host's clock would be off by the difference
/// between the two: with Redis's clock a second ahead, every admission would be `late`; with it
/// behind, late decisions would pass. So Redis's time is read with `TIME` and carried forward on
/// this host's monotonic clock, which a wall-clock correction (NTP, a resumed VM) cannot move.
///
/// The reading counts as Redis's time at the moment its reply arrived, though Redis took it a
/// little earlier (when it ran the command: after any queue of commands ahead of it). So the
/// estimate is never ahead of Redis's clock, and a deadline built on it never lets Redis decide
/// after the client gave up; it can only be stricter by the reply's trip back. Read again every
/// ``refreshInterval`` in the background while the last reading keeps serving.
final class RedisServerClock: Sendable {
    private struct Reading {
        /// Redis's time in ms since the epoch, as `TIME` said.
        let redisMilliseconds: Int
        /// When its reply arrived, on this host's monotonic clock.
        let received: ContinuousClock.Instant
    }

    static let refreshInterval = Duration.seconds(30)

    private let redis: RedisClient
    private let reading = Mutex<Reading?>(nil)
    /// One reading at a time, however many callers find it missing or old.
    private let readings = SingleFlight<Int, Reading>()

    init(redis: RedisClient) {
        self.redis = redis
    }

    /// Redis's time now, in milliseconds since the epoch (estimated, never ahead of it).
    func now() async throws -> Int {
        let known = reading.withLock { $0 }
        let current: Reading
        if let known, known.received.duration(to: .now) < Self.refreshInterval {
            current = known
        } else {
            // (One flight, so the key is a constant.)
            let measuring = readings.task(for: 0) { try await self.measure() }
            // An old reading keeps serving while the new one is taken.
            if let known { current = known } else { current = try await measuring.value }
        }
        let elapsed = current.received.duration(to: .now)
        return current.redisMilliseconds + Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    private func measure() async throws -> Reading {
        let reply = try await redis.send(RedisCommand("TIME"))
        let received = ContinuousClock.now
        let reading = Reading(redisMilliseconds: try reply.timeMilliseconds(), received: received)
        self.reading.withLock { $0 = reading }
        return reading
    }
}
