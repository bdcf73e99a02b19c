import Redis
import Synchronization

/// Redis's clock as seen from this process, for deadlines Redis itself checks.
///
/// The admission script refuses a decision reached after the client's deadline, by Redis's own
/// clock (`TIME`). A deadline computed from this host's clock would be off by the difference
/// between the two: with Redis's clock a second ahead, every admission would be `late`; with it
/// behind, late decisions would pass. So the difference is measured (one `TIME`, halfway between
/// sending and receiving: good to half a round trip), and measured again every
/// ``refreshMilliseconds`` in the background while the last figure keeps serving.
final class RedisServerClock: Sendable {
    private struct State {
        /// Milliseconds to add to this host's clock to read Redis's.
        var offset: Int?
        var measuredAt = 0
        var measuring: Task<Int, any Error>?
    }

    static let refreshMilliseconds = 30_000

    private let redis: RedisClient
    private let localClock: @Sendable () -> Int
    private let state = Mutex(State())

    init(redis: RedisClient, localClock: @escaping @Sendable () -> Int) {
        self.redis = redis
        self.localClock = localClock
    }

    /// Redis's time now, in milliseconds since the epoch (estimated).
    func now() async throws -> Int {
        let local = localClock()
        let (known, waitFor) = state.withLock { state -> (Int?, Task<Int, any Error>?) in
            if let offset = state.offset, local - state.measuredAt < Self.refreshMilliseconds { return (offset, nil) }
            // One measurement at a time, however many callers find the figure missing or old.
            let measuring = state.measuring ?? Task { try await self.measure() }
            state.measuring = measuring
            return (state.offset, measuring)
        }
        if let known { return local + known }
        return local + (try await waitFor!.value)
    }

    private func measure() async throws -> Int {
        defer { state.withLock { $0.measuring = nil } }
        let sent = localClock()
        let reply = try await redis.send(RedisCommand("TIME")).throwingError().requireArray()
        let received = localClock()
        guard reply.count == 2, let seconds = reply[0].int, let microseconds = reply[1].int else {
            throw RedisError(code: .unexpectedReply, message: "TIME answered \(reply)")
        }
        let offset = seconds * 1000 + microseconds / 1000 - (sent + received) / 2
        state.withLock {
            $0.offset = offset
            $0.measuredAt = received
        }
        return offset
    }
}
