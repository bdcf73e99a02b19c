import BlockingThreads
import Synchronization

/// A fixed set of connections, each a ``ThreadConfined`` connection on a thread of its own.
///
/// Async callers borrow a connection with ``withConnection(_:)``: the closure runs synchronously
/// on the connection's thread, so a whole transaction costs one hop off the cooperative pool.
/// A connection that broke (server restart, network) is replaced on its next use; the call that
/// was running when it broke fails with ``PostgresError/Code/connectionFailure``. Who gets which
/// connection is ``PostgresPoolState``'s decision.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    private let slots: [Slot]
    private let state: Mutex<PostgresPoolState<CheckedContinuation<Int, any Error>>>

    /// How long ``withConnection(_:)`` waits for a free connection; nil waits as long as it takes.
    public let acquireTimeout: Duration?

    /// One connection on its thread, and the canceller of the connection last opened there
    /// (usable from any thread: it is how a cancelled caller stops a running statement).
    private final class Slot: Sendable {
        let connection: ThreadConfined<PostgresConnection>
        let canceller: LatestCanceller

        init(name: String, configuration: PostgresConfiguration) {
            let canceller = LatestCanceller()
            connection = ThreadConfined(
                name: name,
                open: {
                    let connection = try PostgresConnection(configuration: configuration)
                    canceller.current.withLock { $0 = connection.canceller }
                    return connection
                },
                isBroken: { !$0.isHealthy })
            self.canceller = canceller
        }
    }

    private final class LatestCanceller: Sendable {
        let current = Mutex<PostgresCanceller?>(nil)
    }

    /// `acquireTimeout` bounds the wait for a free connection: a caller still waiting after it
    /// fails with ``PostgresError/Code/poolTimeout`` (serve answers 503), so a burst of slow
    /// statements costs other requests a refusal, never an endless queue.
    public init(configuration: PostgresConfiguration, size: Int, name: String = "pg", acquireTimeout: Duration? = nil) {
        precondition(size > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.acquireTimeout = acquireTimeout
        self.slots = (0..<size).map { Slot(name: "\(name)-\($0)", configuration: configuration) }
        self.state = Mutex(PostgresPoolState(size: size))
    }

    public var size: Int { slots.count }

    /// Borrows a connection for the duration of `body`, which runs on the connection's own thread.
    /// Cancelling the calling task cancels the running statement on the server; a task already
    /// cancelled when it gets its connection runs nothing and fails with `queryCanceled`.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        // PQcancel only stops a statement the server is already running; a caller cancelled
        // while it waited for a connection would otherwise still run its statements (a request
        // the client gave up on would still write). It gets the cancellation instead.
        if Task.isCancelled {
            throw PostgresError(code: .queryCanceled, message: "canceled before any statement was sent")
        }
        let slot = slots[index]
        return try await withTaskCancellationHandler {
            try await slot.connection.run(body)
        } onCancel: {
            // Never inline: onCancel runs on the cancelling task's thread, often one of the
            // cooperative pool's few, and PQcancel waits for the server's answer — for ever on
            // a hung server (two such waits once stopped every task of a test run).
            guard let canceller = slot.canceller.current.withLock({ $0 }) else { return }
            DetachedThread.run(name: "postgres-cancel") { _ = canceller.cancelCurrentStatement() }
        }
    }

    /// Runs `body` in a transaction on a borrowed connection.
    public func transaction<T: Sendable>(
        isolation: PostgresConnection.IsolationLevel = .readCommitted,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try connection.transaction(isolation: isolation, body)
        }
    }

    /// Runs one statement on a borrowed connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await withConnection { try $0.query(sql, parameters) }
    }

    /// Closes every connection and ends the threads; later calls fail with `poolClosed`.
    public func shutdown() async {
        for waiter in state.withLock({ $0.close() }) {
            waiter.resume(throwing: Self.closedError)
        }
        for slot in slots { slot.connection.shutdown() }
    }

    // MARK: checkout

    private static let closedError = PostgresError(code: .poolClosed, message: "the pool is shut down")

    private func acquire() async throws -> Int {
        switch state.withLock({ $0.checkoutIfFree() }) {
        case .use(let slot): return slot
        case .closed: throw Self.closedError
        case .wait, .timedOut, nil: break
        }
        let ticket = state.withLock { $0.ticket() }
        // The timer runs beside the wait rather than inside it: a checked continuation cannot be
        // raced, so the timer takes the wait out of the queue and fails it itself.
        let timer = acquireTimeout.map { timeout in
            Task { [self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                state.withLock { $0.expire(ticket: ticket) }?.resume(throwing: Self.timeoutError(timeout))
            }
        }
        defer { timer?.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            switch state.withLock({ $0.checkout(ticket: ticket, waiter: continuation) }) {
            case .use(let slot): continuation.resume(returning: slot)
            case .wait: break
            case .closed: continuation.resume(throwing: Self.closedError)
            case .timedOut: continuation.resume(throwing: Self.timeoutError(acquireTimeout ?? .zero))
            }
        }
    }

    private static func timeoutError(_ timeout: Duration) -> PostgresError {
        PostgresError(code: .poolTimeout, message: "no connection became free within \(timeout)")
    }

    private func release(_ index: Int) {
        if let handoff = state.withLock({ $0.checkin(index) }) {
            handoff.waiter.resume(returning: handoff.slot)
        }
    }
}
