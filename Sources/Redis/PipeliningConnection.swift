import BlockingThreads
import Glibc
import Synchronization

/// One connection on its own thread, and the requests waiting for its next round trip.
///
/// Callers queue requests; a drain on the connection's thread takes everything queued since its
/// last round trip, writes it all, reads all replies, and repeats until nothing is left. Under
/// load many callers' commands share one round trip without any caller batching by hand. The
/// decisions are ``PipelineQueue``'s; this type keeps it under a lock and does what it says.
final class PipeliningConnection: Sendable {
    private struct Request {
        let commands: [RedisCommand]
        let continuation: CheckedContinuation<[RedisReply], any Error>
    }

    private let confined: ThreadConfined<RedisConnection>
    private let state = Mutex(PipelineQueue<Request>())

    init(configuration: RedisConfiguration, name: String) {
        confined = ThreadConfined(
            name: name, open: { try RedisConnection(configuration: configuration) }, isBroken: \.isBroken)
    }

    /// Sends `commands` in the next round trip, contiguously, after the requests queued before.
    func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await withCheckedThrowingContinuation { continuation in
            switch state.withLock({ $0.enqueue(Request(commands: commands, continuation: continuation)) }) {
            case .startDrain: startDrain()
            case .none: break
            case .refuse: continuation.resume(throwing: Self.closedError)
            }
        }
    }

    /// Refuses new requests, sends the queued ones, then closes the connection and ends its thread.
    func shutdown() {
        state.withLock { $0.close() }
        confined.shutdown()
    }

    private static let closedError = RedisError(code: .closed, message: "the client is shut down")

    private func startDrain() {
        let accepted = confined.start(
            { connection in self.drain(connection) },
            ifNoHandle: { error in
                var unsent = error as? RedisError ?? RedisError(code: .connectionFailure, message: "cannot connect")
                unsent.notSent = true
                self.fail(self.state.withLock { $0.abandon() }, with: unsent)
            })
        // Only a thread that is shutting down refuses work, and shutdown closed the queue first.
        if !accepted { fail(state.withLock { $0.abandon() }, with: Self.closedError) }
    }

    private func fail(_ requests: [Request], with error: any Error) {
        for request in requests { request.continuation.resume(throwing: error) }
    }

    // MARK: on the connection's thread

    /// Round trips until nothing is queued.
    private func drain(_ connection: RedisConnection) {
        var yields = 0
        while true {
            // About to go idle right after resuming callers, who typically send their next
            // command within microseconds: yielding the CPU once or twice first lets them run
            // and queue it, saving a sleep and a wake-up (a context switch each) per round trip.
            switch state.withLock({ $0.takeBatch(mayGoIdle: yields == 2) }) {
            case .roundTrip(let batch):
                yields = 0
                roundTrip(batch, on: connection)
                if connection.isBroken {
                    // ThreadConfined drops a broken connection when this work item ends; a new
                    // drain, queued behind it, opens a fresh one for what is left.
                    if state.withLock({ $0.connectionBroke() }) { startDrain() }
                    return
                }
            case .empty:
                yields += 1
                sched_yield()
            case .idle:
                return
            }
        }
    }

    private func roundTrip(_ batch: [Request], on connection: RedisConnection) {
        let commands = batch.count == 1 ? batch[0].commands : batch.flatMap(\.commands)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        do {
            try connection.pipeline(commands) { replies.append($0) }
        } catch {
            // Requests whose replies all arrived succeeded; the rest fail (their fate is unknown).
            var offset = 0
            for request in batch {
                let end = offset + request.commands.count
                if end <= replies.count {
                    request.continuation.resume(returning: Array(replies[offset..<end]))
                } else {
                    request.continuation.resume(throwing: error)
                }
                offset = end
            }
            return
        }
        if batch.count == 1 {
            // The common case under low concurrency: hand the replies over without copying.
            batch[0].continuation.resume(returning: replies)
            return
        }
        var offset = 0
        for request in batch {
            let end = offset + request.commands.count
            request.continuation.resume(returning: Array(replies[offset..<end]))
            offset = end
        }
    }
}
