import BlockingThreads
import DequeModule
import Synchronization

/// A fixed set of connections, each owned by its own ``DedicatedThread``.
///
/// Async callers borrow a connection with ``withConnection(_:)``: the closure runs synchronously
/// on the connection's thread, so a whole transaction costs one hop off the cooperative pool.
/// A connection that broke (server restart, network) is replaced on its next use; the call that
/// was running when it broke fails with ``PostgresError/Code/connectionFailure``.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    private let slots: [Slot]
    private let state: Mutex<State>

    /// How long ``withConnection(_:)`` waits for a free connection; nil waits as long as it takes.
    public let acquireTimeout: Duration?

    private struct State {
        var free: [Int]
        var waiters: Deque<Waiter> = []
        var closed = false
    }

    /// A caller waiting for a connection. Its fields are only touched under `state`'s lock.
    private final class Waiter: @unchecked Sendable {
        var continuation: CheckedContinuation<Int, any Error>?
        /// Its wait ended before it queued (the timer fired first) or after it was served.
        var expired = false
    }

    /// One connection and the thread that owns it. `connection` is only touched on `thread`.
    private final class Slot: @unchecked Sendable {
        let thread: DedicatedThread
        var connection: PostgresConnection?
        let canceller = Mutex<PostgresCanceller?>(nil)

        init(name: String) { thread = DedicatedThread(name: name) }
    }

    /// `acquireTimeout` bounds the wait for a free connection: a caller still waiting after it
    /// fails with ``PostgresError/Code/poolTimeout`` (serve answers 503), so a burst of slow
    /// statements costs other requests a refusal, never an endless queue.
    public init(configuration: PostgresConfiguration, size: Int, name: String = "pg", acquireTimeout: Duration? = nil) {
        precondition(size > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.acquireTimeout = acquireTimeout
        self.slots = (0..<size).map { Slot(name: "\(name)-\($0)") }
        self.state = Mutex(State(free: Array((0..<size).reversed())))
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
            try await slot.thread.run { [configuration] in
                let connection = try Self.connect(slot, configuration)
                do {
                    return try body(connection)
                } catch {
                    if !connection.isHealthy {
                        slot.connection = nil
                        slot.canceller.withLock { $0 = nil }
                    }
                    throw error
                }
            }
        } onCancel: {
            // Never inline: onCancel runs on the cancelling task's thread, often one of the
            // cooperative pool's few, and PQcancel waits for the server's answer — for ever on
            // a hung server (two such waits once stopped every task of a test run).
            guard let canceller = slot.canceller.withLock({ $0 }) else { return }
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
        let waiters = state.withLock { state -> [CheckedContinuation<Int, any Error>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.compactMap { waiter in
                defer { waiter.continuation = nil }
                return waiter.continuation
            }
        }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(code: .poolClosed, message: "the pool is shut down"))
        }
        for slot in slots {
            _ = try? await slot.thread.run { slot.connection = nil }
            slot.thread.shutdown()
        }
    }

    // MARK: checkout

    private static func connect(_ slot: Slot, _ configuration: PostgresConfiguration) throws -> PostgresConnection {
        if let existing = slot.connection, existing.isHealthy { return existing }
        slot.connection = nil
        let connection = try PostgresConnection(configuration: configuration)
        slot.connection = connection
        slot.canceller.withLock { $0 = connection.canceller }
        return connection
    }

    private func acquire() async throws -> Int {
        if let index = try state.withLock({ state -> Int? in
            if state.closed { throw PostgresError(code: .poolClosed, message: "the pool is shut down") }
            return state.free.popLast()
        }) {
            return index
        }
        let waiter = Waiter()
        // The timer runs beside the wait rather than inside it: a checked continuation cannot be
        // raced, so the timer takes the waiter out of the queue and fails it itself.
        let timer = acquireTimeout.map { timeout in
            Task { [self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                expire(waiter, after: timeout)
            }
        }
        defer { timer?.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<Int, any Error>? = state.withLock { state in
                if state.closed {
                    return .failure(PostgresError(code: .poolClosed, message: "the pool is shut down"))
                }
                if let index = state.free.popLast() { return .success(index) }
                if waiter.expired, let acquireTimeout { return .failure(Self.timeoutError(acquireTimeout)) }
                waiter.continuation = continuation
                state.waiters.append(waiter)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    /// Fails `waiter` if it still waits; marks it so it does not queue if it has not yet.
    private func expire(_ waiter: Waiter, after timeout: Duration) {
        let continuation = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            waiter.expired = true
            guard let position = state.waiters.firstIndex(where: { $0 === waiter }) else { return nil }
            state.waiters.remove(at: position)
            defer { waiter.continuation = nil }
            return waiter.continuation
        }
        continuation?.resume(throwing: Self.timeoutError(timeout))
    }

    private static func timeoutError(_ timeout: Duration) -> PostgresError {
        PostgresError(code: .poolTimeout, message: "no connection became free within \(timeout)")
    }

    private func release(_ index: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            while let waiter = state.waiters.popFirst() {
                guard let continuation = waiter.continuation else { continue }
                waiter.continuation = nil
                return continuation
            }
            state.free.append(index)
            return nil
        }
        waiter?.resume(returning: index)
    }
}
