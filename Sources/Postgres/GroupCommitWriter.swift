import Synchronization

/// Group commit: many concurrent requests, one commit.
///
/// Callers submit one request each and wait for its response, which comes only once the batch
/// holding it has committed (or failed). Batches are formed by ``GroupCommitQueue``'s rule: a
/// writer takes everything queued, up to `maxBatch`; another writer starts only when no batch is
/// committing or a full batch is already waiting; at most `writers` at once. So the cost of a
/// commit (a WAL flush) is shared by everyone who arrived while the previous one ran. Each batch
/// borrows a connection from the pool (no threads or connections of its own: the pool's size
/// counts them), and a failed batch is handled by the ``GroupCommitFailurePolicy``.
public final class GroupCommitWriter<Request: Sendable, Response: Sendable>: Sendable {
    /// Applies a batch on a borrowed connection; returns one response per request, in order.
    /// `writer` is the slot of the writer committing it (in `0..<writers`; batches committing at
    /// the same time have different ones). The body opens a transaction if it needs one.
    public typealias Body = @Sendable (_ connection: PostgresConnection, _ requests: [Request], _ writer: Int) throws -> [Response]

    private struct Pending: Sendable {
        let request: Request
        let continuation: CheckedContinuation<Response, any Error>
    }

    private typealias Queue = GroupCommitQueue<Pending, CheckedContinuation<Void, Never>>

    private let pool: PostgresPool
    private let policy: GroupCommitFailurePolicy
    private let body: Body
    private let state: Mutex<Queue>
    private let onBatch: (@Sendable (Int) -> Void)?
    private let onFailure: (@Sendable (_ requests: Int, _ error: any Error) -> Void)?

    /// - Parameters:
    ///   - writers: batches committing at once (each borrows a pool connection while it commits).
    ///   - onBatch: called with each batch's size as a writer takes it (for metrics).
    ///   - onFailure: called when requests are answered with an error (for logs).
    public init(
        pool: PostgresPool, maxBatch: Int, writers: Int, policy: GroupCommitFailurePolicy,
        onBatch: (@Sendable (Int) -> Void)? = nil,
        onFailure: (@Sendable (_ requests: Int, _ error: any Error) -> Void)? = nil,
        body: @escaping Body
    ) {
        self.pool = pool
        self.policy = policy
        self.body = body
        self.state = Mutex(Queue(maxBatch: maxBatch, writers: writers))
        self.onBatch = onBatch
        self.onFailure = onFailure
    }

    /// Queues the request and returns once its batch has committed; throws its error, or
    /// ``GroupCommitWriterClosed`` after ``close()``.
    public func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            switch state.withLock({ $0.enqueue(Pending(request: request, continuation: continuation)) }) {
            case .refused: continuation.resume(throwing: GroupCommitWriterClosed())
            case .queued: break
            case .start(let batch): start(batch)
            }
        }
    }

    /// Refuses new requests and returns once everything queued has been committed or failed.
    public func close() async {
        await withCheckedContinuation { continuation in
            switch state.withLock({ $0.close(waiter: continuation) }) {
            case .drained: continuation.resume()
            case .wait(let batches): for batch in batches { start(batch) }
            }
        }
    }

    // MARK: writers

    private func start(_ batch: Queue.Batch) {
        Task { await self.write(batch) }
    }

    /// Commits `batch`, then the batches the queue hands this writer next, until there is none.
    private func write(_ batch: Queue.Batch) async {
        var batch = batch
        while true {
            onBatch?(batch.items.count)
            await commit(batch.items, writer: batch.writer)
            let writer = batch.writer
            let finished = state.withLock { $0.finished(writer: writer) }
            for waiter in finished.drained { waiter.resume() }
            guard let first = finished.batches.first else { return }
            for other in finished.batches.dropFirst() { start(other) }
            batch = first
        }
    }

    private func commit(_ batch: [Pending], writer: Int) async {
        switch policy {
        case .retryThenHalve(let attempts): await commitRetryingThenHalving(batch, writer: writer, attempts: attempts)
        case .retryOnceThenEachAlone: await commitRetryingOnceThenEachAlone(batch, writer: writer)
        }
    }

    /// ``GroupCommitFailurePolicy/retryThenHalve(attempts:)``.
    private func commitRetryingThenHalving(_ batch: [Pending], writer: Int, attempts: Int) async {
        let requests = batch.map(\.request)
        var attempt = 1
        while true {
            let connected = ConnectedFlag()
            do {
                answer(batch, try await self.attempt(requests, writer: writer, connected: connected))
                return
            } catch let error as PostgresError where attempt < attempts && Self.worthRetrying(error, connected: connected.value) {
                attempt += 1
            } catch let error as PostgresError where error.meansStoreUnavailable || error.code == .poolTimeout {
                fail(batch, with: error)
                return
            } catch  where batch.count > 1 {
                let middle = batch.count / 2
                await commitRetryingThenHalving(Array(batch[..<middle]), writer: writer, attempts: attempts)
                await commitRetryingThenHalving(Array(batch[middle...]), writer: writer, attempts: attempts)
                return
            } catch {
                fail(batch, with: error)
                return
            }
        }
    }

    /// A connection lost under the batch is worth another (the pool replaces it: a pooled
    /// connection can look healthy after the server restarted, and a fresh one decides); one
    /// that could not even be made says the store is unreachable.
    private static func worthRetrying(_ error: PostgresError, connected: Bool) -> Bool {
        error.code == .connectionFailure ? connected : error.isTransient
    }

    /// ``GroupCommitFailurePolicy/retryOnceThenEachAlone``.
    private func commitRetryingOnceThenEachAlone(_ batch: [Pending], writer: Int) async {
        let requests = batch.map(\.request)
        do {
            let responses: [Response]
            do {
                responses = try await attempt(requests, writer: writer)
            } catch let error as PostgresError where error.meansStoreUnavailable && !error.mayHaveCommitted {
                // Nothing took effect: once more, on a fresh connection.
                responses = try await attempt(requests, writer: writer)
            }
            answer(batch, responses)
        } catch let error as PostgresError where error.meansStoreUnavailable || error.code == .poolTimeout {
            fail(batch, with: error)
        } catch  where batch.count > 1 {
            for pending in batch {
                do {
                    answer([pending], try await attempt([pending.request], writer: writer))
                } catch {
                    fail([pending], with: error)
                }
            }
        } catch {
            fail(batch, with: error)
        }
    }

    /// Commits the requests on a borrowed connection; `connected` is set once the body runs
    /// (the pool had a connection, or made one).
    private func attempt(_ requests: [Request], writer: Int, connected: ConnectedFlag? = nil) async throws -> [Response] {
        let responses = try await pool.withConnection { [body] connection in
            connected?.set()
            return try body(connection, requests, writer)
        }
        precondition(responses.count == requests.count, "a group-commit body must answer every request")
        return responses
    }

    private func answer(_ batch: [Pending], _ responses: [Response]) {
        for (pending, response) in zip(batch, responses) { pending.continuation.resume(returning: response) }
    }

    private func fail(_ batch: [Pending], with error: any Error) {
        onFailure?(batch.count, error)
        for pending in batch { pending.continuation.resume(throwing: error) }
    }
}

/// Whether an attempt's body ran, i.e. whether it had a connection.
private final class ConnectedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var value: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// A request submitted to a ``GroupCommitWriter`` after ``GroupCommitWriter/close()``: the
/// process is shutting down.
public struct GroupCommitWriterClosed: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "the group-commit writer is closed (shutting down)" }
}
