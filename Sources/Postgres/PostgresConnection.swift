import CLibPQ
import Foundation

/// One libpq connection with a synchronous API.
///
/// Not thread-safe: it is used by exactly one thread (each is a `ThreadConfined` handle: the
/// pool's slots, the leader lock's session). Only the ``canceller`` may be used from other threads.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    public let canceller: PostgresCanceller
    /// Names of the statements prepared on this connection (see ``query(_:_:preparedAs:)``).
    private var prepared: Set<String> = []
    public let configuration: PostgresConfiguration
    /// How long a statement waits for the server's answer (see
    /// ``PostgresConfiguration/replyTimeoutMilliseconds``); lift it for work known to be long
    /// with ``withoutReplyTimeout(_:)``.
    public private(set) var replyTimeoutMilliseconds: Int?

    public init(configuration: PostgresConfiguration) throws {
        self.configuration = configuration
        self.replyTimeoutMilliseconds = configuration.replyTimeoutMilliseconds
        let parameters = configuration.connectionParameters
        let keys = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            for pointer in keys { free(pointer) }
            for pointer in values { free(pointer) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let connection = try keyPointers.withUnsafeMutableBufferPointer { keyBuffer in
            try valuePointers.withUnsafeMutableBufferPointer { valueBuffer in
                if let limit = configuration.replyTimeoutMilliseconds {
                    let connectLimit = configuration.connectTimeoutSeconds > 0 ? configuration.connectTimeoutSeconds * 1000 : limit
                    return try Self.connect(
                        keys: keyBuffer.baseAddress, values: valueBuffer.baseAddress, within: min(limit, connectLimit), configuration)
                }
                return PQconnectdbParams(keyBuffer.baseAddress, valueBuffer.baseAddress, 0)
            }
        }
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { Self.trimmedMessage(PQerrorMessage($0)) } ?? "out of memory"
            if let connection { PQfinish(connection) }
            throw PostgresError(
                code: .connectionFailure,
                message: "cannot connect to \(configuration.serversDescription): \(message)")
        }
        self.handle = connection
        self.canceller = PostgresCanceller(PQgetCancel(connection))
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Connects without waiting for the server longer than `milliseconds` in all, the startup
    /// exchange included. A hung server accepts the TCP connection and then never answers, and
    /// libpq's own `connect_timeout` cannot be less than 2 s: a request needing a new connection
    /// would wait that long for its 503. Returns the handle, connected or failed (PQstatus says).
    private static func connect(
        keys: UnsafeMutablePointer<UnsafePointer<CChar>?>?, values: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
        within milliseconds: Int, _ configuration: PostgresConfiguration
    ) throws -> OpaquePointer? {
        guard let connection = PQconnectStartParams(keys, values, 0) else { return nil }
        guard PQstatus(connection) != CONNECTION_BAD else { return connection }
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        // Before the first PQconnectPoll, libpq wants the socket writable.
        var state = PGRES_POLLING_WRITING
        while state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED {
            let socket = PQsocket(connection)
            guard socket >= 0 else {
                // No socket to wait on: libpq has failed the attempt and says why.
                state = PQconnectPoll(connection)
                break
            }
            guard Self.waitForSocket(socket, state == PGRES_POLLING_READING ? POLLIN : POLLOUT, until: deadline) else {
                PQfinish(connection)
                throw PostgresError(
                    code: .connectionFailure,
                    message: "cannot connect to \(configuration.serversDescription): no answer within \(milliseconds) ms")
            }
            state = PQconnectPoll(connection)
        }
        return connection
    }

    /// Whether the connection is still usable. Reads whatever the server has sent meanwhile, so
    /// a server that restarted (and closed our socket) is noticed here rather than by the next
    /// statement failing.
    public var isHealthy: Bool {
        guard let handle else { return false }
        if PQconsumeInput(handle) == 0 { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    // MARK: statements

    /// Runs one parameterized statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
        let handle = try connectedHandle()
        let result = try exchange(handle) { handle in
            withCStringArray(parameters.map(\.text)) { values in
                PQsendQueryParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        return try check(result, expecting: [PGRES_TUPLES_OK, PGRES_COMMAND_OK])
    }

    /// Runs one parameterized statement prepared on this connection under `name`: parsed and
    /// planned once per connection instead of on every call (hot statements). The same name must
    /// always be given the same SQL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue], preparedAs name: String) throws -> PostgresRows {
        let handle = try connectedHandle()
        if !prepared.contains(name) {
            let result = try exchange(handle) { PQsendPrepare($0, name, sql, Int32(parameters.count), nil) }
            _ = try check(result, expecting: [PGRES_COMMAND_OK])
            prepared.insert(name)
        }
        let result = try exchange(handle) { handle in
            withCStringArray(parameters.map(\.text)) { values in
                PQsendQueryPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
            }
        }
        return try check(result, expecting: [PGRES_TUPLES_OK, PGRES_COMMAND_OK])
    }

    /// Runs a script of several statements without parameters (migrations).
    public func execute(script: String) throws {
        let handle = try connectedHandle()
        let result = try exchange(handle) { PQsendQuery($0, script) }
        _ = try check(result, expecting: [PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY])
    }

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` inside BEGIN/COMMIT. Any error thrown by `body` or by COMMIT rolls the
    /// transaction back (when the connection still lives) and is rethrown.
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try query(isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        var committing = false
        do {
            let value = try body(self)
            committing = true
            try query("COMMIT")
            return value
        } catch var error as PostgresError where committing && error.code == .connectionFailure {
            // The COMMIT may have reached the server and taken effect; only its answer is lost.
            error.mayHaveCommitted = true
            throw error
        } catch {
            if isHealthy, let handle, let result = try? exchange(handle, { PQsendQuery($0, "ROLLBACK") }) {
                PQclear(result)
            }
            throw error
        }
    }

    // MARK: COPY

    /// Streams rows into the server with `COPY … FROM STDIN`. `produce` writes the COPY text
    /// through the writer; returns the number of rows copied.
    @discardableResult
    public func copyIn(_ sql: String, _ produce: (inout PostgresCopyInWriter) throws -> Void) throws -> Int {
        let handle = try connectedHandle()
        let start = try exchange(handle) { PQsendQuery($0, sql) }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try check(start, expecting: [])
            throw PostgresError(code: .protocolViolation, message: "COPY did not enter COPY IN state")
        }
        PQclear(start)
        var writer = PostgresCopyInWriter(handle: handle)
        do {
            try produce(&writer)
            try writer.flush()
        } catch {
            PQputCopyEnd(handle, "aborted by client")
            drainResults(handle)
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw connectionError(handle)
        }
        let rows = try check(try awaitResult(handle), expecting: [PGRES_COMMAND_OK])
        return rows.affectedRows
    }

    /// Streams rows out with `COPY … TO STDOUT`; `consume` receives each row's bytes (one line of
    /// COPY text including its newline). Returns the number of rows.
    @discardableResult
    public func copyOut(_ sql: String, _ consume: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Int {
        let handle = try connectedHandle()
        let start = try exchange(handle) { PQsendQuery($0, sql) }
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            _ = try check(start, expecting: [])
            throw PostgresError(code: .protocolViolation, message: "COPY did not enter COPY OUT state")
        }
        PQclear(start)
        var consumerError: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                if consumerError == nil {
                    do {
                        try buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                            try consume(UnsafeBufferPointer(start: $0, count: Int(length)))
                        }
                    } catch {
                        // Keep reading: the protocol requires the stream to be consumed to the end.
                        consumerError = error
                    }
                }
                PQfreemem(buffer)
            } else if length == -1 {
                break
            } else {
                throw connectionError(handle)
            }
        }
        let rows = try check(try awaitResult(handle), expecting: [PGRES_COMMAND_OK])
        if let consumerError { throw consumerError }
        return rows.affectedRows
    }

    /// Runs `body` with no cap on the wait for answers (work known to take long: audits over
    /// every row, migrations), then restores the cap.
    public func withoutReplyTimeout<T>(_ body: () throws -> T) rethrows -> T {
        let saved = replyTimeoutMilliseconds
        replyTimeoutMilliseconds = nil
        defer { replyTimeoutMilliseconds = saved }
        return try body()
    }

    // MARK: internals

    /// Sends a statement with `send` (a `PQsend…` call) and waits for its answer: what `PQexec`
    /// does, but with the wait bounded by ``replyTimeoutMilliseconds``.
    private func exchange(_ handle: OpaquePointer, _ send: (OpaquePointer) -> Int32) throws -> OpaquePointer? {
        guard send(handle) == 1 else { throw connectionError(handle) }
        return try awaitResult(handle)
    }

    /// Collects the results of the statement just sent, as `PQexec` does: the first error, else
    /// the last result; stops at a COPY state (the caller streams the data). Nil when the
    /// connection broke.
    private func awaitResult(_ handle: OpaquePointer) throws -> OpaquePointer? {
        let deadline = replyTimeoutMilliseconds.map { ContinuousClock.now + .milliseconds($0) }
        var kept: OpaquePointer?
        while true {
            // Without a deadline PQgetResult itself blocks until the answer is there.
            while let deadline, PQisBusy(handle) == 1 {
                try waitForAnswer(handle, until: deadline, discarding: kept)
                if PQconsumeInput(handle) == 0 {
                    if let kept { PQclear(kept) }
                    return nil
                }
            }
            guard let result = PQgetResult(handle) else { return kept }
            let status = PQresultStatus(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                if let kept { PQclear(kept) }
                return result
            }
            if let previous = kept {
                if PQresultStatus(previous) == PGRES_FATAL_ERROR {
                    PQclear(result)
                    continue
                }
                PQclear(previous)
            }
            kept = result
        }
    }

    /// Blocks until the server has sent something or `deadline` passed. Past it the connection
    /// is closed (nothing more can be read from it reliably) and the call fails.
    private func waitForAnswer(_ handle: OpaquePointer, until deadline: ContinuousClock.Instant, discarding kept: OpaquePointer?) throws {
        if Self.waitForSocket(PQsocket(handle), POLLIN, until: deadline) { return }
        if let kept { PQclear(kept) }
        let limit = replyTimeoutMilliseconds ?? 0
        PQfinish(handle)
        self.handle = nil
        prepared.removeAll()
        throw PostgresError(
            code: .connectionFailure,
            message: "no answer from \(configuration.serversDescription) within \(limit) ms")
    }

    /// Waits until `socket` is ready for `events` or `deadline` passes; false when it passed. A
    /// failed poll counts as ready: the libpq call that follows reports what broke.
    private static func waitForSocket(_ socket: Int32, _ events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            // Rounded up, so the wait never ends just short of the deadline.
            let milliseconds = Int32(
                min(
                    remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1, Int64(Int32.max)))
            var descriptor = pollfd(fd: socket, events: Int16(events), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready != 0
        }
    }

    private func connectedHandle() throws -> OpaquePointer {
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailure, message: "connection is closed")
        }
        return handle
    }

    private func drainResults(_ handle: OpaquePointer) {
        while let extra = PQgetResult(handle) { PQclear(extra) }
    }

    private func connectionError(_ handle: OpaquePointer) -> PostgresError {
        PostgresError(code: .connectionFailure, message: Self.trimmedMessage(PQerrorMessage(handle)))
    }

    /// Turns a libpq result into rows or a ``PostgresError``; frees the result on error.
    private func check(_ result: OpaquePointer?, expecting statuses: [ExecStatusType]) throws -> PostgresRows {
        guard let result else {
            throw handle.map(connectionError) ?? PostgresError(code: .connectionFailure, message: "no connection")
        }
        let status = PQresultStatus(result)
        if statuses.contains(status) { return PostgresRows(result: result) }
        defer { PQclear(result) }
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(UInt8(ascii: "C"))
        let message = field(UInt8(ascii: "M")) ?? Self.trimmedMessage(PQresultErrorMessage(result))
        if let handle, PQstatus(handle) != CONNECTION_OK {
            // The server went away (restart, crash, network): report a connection failure whatever
            // SQLSTATE the farewell message carried, so callers treat it uniformly.
            throw PostgresError(code: .connectionFailure, message: message)
        }
        throw PostgresError(
            code: sqlState.map(PostgresError.Code.init) ?? .protocolViolation,
            message: message,
            detail: field(UInt8(ascii: "D")),
            constraint: field(UInt8(ascii: "n")))
    }

    static func trimmedMessage(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        // libpq's messages span lines ("…refused\n\tIs the server running…"); keep one line.
        return String(cString: message)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
    }
}

/// Cancels the statement running on a connection, from any thread (`PQcancel` is thread-safe).
public final class PostgresCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer?

    init(_ cancel: OpaquePointer?) { self.cancel = cancel }

    deinit { if let cancel { PQfreeCancel(cancel) } }

    /// Asks the server to cancel the current statement; the statement then fails with
    /// ``PostgresError/Code/queryCanceled``.
    @discardableResult
    public func cancelCurrentStatement() -> Bool {
        guard let cancel else { return false }
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(cancel, &buffer, Int32(buffer.count)) == 1
    }
}

/// Buffers COPY text and hands it to libpq in large chunks.
public struct PostgresCopyInWriter {
    let handle: OpaquePointer
    private var buffer: [UInt8] = []
    private static let chunkSize = 256 * 1024

    init(handle: OpaquePointer) {
        self.handle = handle
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    public mutating func write(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.chunkSize { try flush() }
    }

    // Non-generic overloads for the common shapes: called from another module, the generic
    // version runs unspecialized (metadata lookups and an element-wise append per call), which
    // showed up in COPY profiles at a row per call.

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.chunkSize { try flush() }
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let status = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) {
                PQputCopyData(handle, $0.baseAddress, Int32($0.count))
            }
        }
        guard status == 1 else {
            throw PostgresError(code: .connectionFailure, message: PostgresConnection.trimmedMessage(PQerrorMessage(handle)))
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Calls `body` with a C array of NUL-terminated strings (NULL entries stay NULL).
func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
