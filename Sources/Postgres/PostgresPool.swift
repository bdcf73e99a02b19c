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

    private struct State {
        var free: [Int]
        var waiters: Deque<CheckedContinuation<Int, any Error>> = []
        var closed = false
    }

    /// One connection and the thread that owns it. `connection` is only touched on `thread`.
    private final class Slot: @unchecked Sendable {
        let thread: DedicatedThread
        var connection: PostgresConnection?
        let canceller = Mutex<PostgresCanceller?>(nil)

        init(name: String) { thread = DedicatedThread(name: name) }
    }

    public init(configuration: PostgresConfiguration, size: Int, name: String = "pg") {
        precondition(size > 0, "a pool needs at least one connection")
        self.configuration = configuration
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
            _ = slot.canceller.withLock { $0 }?.cancelCurrentStatement()
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
            return Array(state.waiters)
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
        return try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<Int, any Error>? = state.withLock { state in
                if state.closed {
                    return .failure(PostgresError(code: .poolClosed, message: "the pool is shut down"))
                }
                if let index = state.free.popLast() { return .success(index) }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    private func release(_ index: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.free.append(index)
            return nil
        }
        waiter?.resume(returning: index)
    }
}
