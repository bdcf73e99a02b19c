import DequeModule
import Synchronization

/// Group commit: many concurrent requests, one transaction.
///
/// Callers submit one request each and wait for its response. Up to `writers` transactions run
/// at once; requests that arrive while they run wait and form the next batch, so the batch grows
/// with the load and the cost of a commit (a WAL flush) is shared by everyone in it. When a batch
/// fails because of one of its requests, each request is retried alone, so one bad request
/// cannot fail the others and every request gets either its response or its own error — none is
/// silently lost. When it fails because the store is unreachable, or did not answer in time,
/// every request in it gets that error at once.
public final class PostgresBatchWriter<Request: Sendable, Response: Sendable>: Sendable {
    /// Applies a batch inside a transaction; returns one response per request, in order.
    public typealias Body = @Sendable (PostgresConnection, [Request]) throws -> [Response]

    private struct Pending {
        let request: Request
        let continuation: CheckedContinuation<Response, any Error>
    }

    private struct State {
        var pending: Deque<Pending> = []
        var activeWriters = 0
    }

    private let pool: PostgresPool
    private let maxBatch: Int
    private let writers: Int
    private let body: Body
    private let state = Mutex(State())
    private let batchSizeObserver: (@Sendable (Int) -> Void)?

    /// - Parameters:
    ///   - writers: transactions in flight at once (each borrows a pool connection).
    ///   - onBatch: called with each batch's size (for metrics).
    public init(
        pool: PostgresPool, maxBatch: Int, writers: Int = 1, onBatch: (@Sendable (Int) -> Void)? = nil,
        body: @escaping Body
    ) {
        precondition(maxBatch > 0 && writers > 0)
        self.pool = pool
        self.maxBatch = maxBatch
        self.writers = writers
        self.body = body
        self.batchSizeObserver = onBatch
    }

    public func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.pending.append(Pending(request: request, continuation: continuation))
                guard state.activeWriters < writers else { return false }
                state.activeWriters += 1
                return true
            }
            if startWriter {
                Task { await self.write() }
            }
        }
    }

    /// Commits the batch; once more on a fresh connection if the store failed before any COMMIT
    /// could have taken effect (a pooled connection can look healthy after a server restart).
    private func commitRetryingOnce(_ requests: [Request]) async throws -> [Response] {
        let commit = { [pool, body] in try await pool.transaction { connection in try body(connection, requests) } }
        do {
            return try await commit()
        } catch let error as PostgresError where error.meansStoreUnavailable && !error.mayHaveCommitted {
            return try await commit()
        }
    }

    private func write() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let count = min(state.pending.count, maxBatch)
                if count == 0 {
                    state.activeWriters -= 1
                    return []
                }
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if batch.isEmpty { return }
            batchSizeObserver?(batch.count)
            let requests = batch.map(\.request)
            do {
                let responses = try await commitRetryingOnce(requests)
                precondition(responses.count == batch.count, "a batch body must answer every request")
                for (pending, response) in zip(batch, responses) { pending.continuation.resume(returning: response) }
            } catch let error as PostgresError where error.meansStoreUnavailable || error.code == .poolTimeout {
                // The store failed (or no connection came free in time), not a request: retrying
                // each alone would make the last one wait a timeout per request before it, and
                // everyone queued behind.
                for pending in batch { pending.continuation.resume(throwing: error) }
            } catch  where batch.count > 1 {
                // Isolate the failure: each request alone, in its own transaction.
                for pending in batch {
                    do {
                        let response = try await pool.transaction { [body] connection in
                            try body(connection, [pending.request])
                        }
                        pending.continuation.resume(returning: response[0])
                    } catch {
                        pending.continuation.resume(throwing: error)
                    }
                }
            } catch {
                batch[0].continuation.resume(throwing: error)
            }
        }
    }
}
