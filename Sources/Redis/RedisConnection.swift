import CHiredis
import Glibc

/// One hiredis connection with a synchronous API.
///
/// Not thread-safe: owned by one thread at a time. After any I/O error hiredis leaves the context
/// unusable, so ``isBroken`` turns true and the owner replaces the connection.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    private(set) var isBroken = false
    private let configuration: RedisConfiguration
    /// The RESP bytes of the batch being sent; kept to reuse its capacity.
    private var outgoing: [UInt8] = []

    init(configuration: RedisConfiguration) throws {
        self.configuration = configuration
        Self.blockBrokenPipeSignal()
        let connectTimeout = timeval(milliseconds: configuration.connectTimeoutMilliseconds)
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), connectTimeout) else {
            throw RedisError(code: .connectionFailure, message: "cannot allocate a Redis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError(
                code: .connectionFailure,
                message: "cannot connect to \(configuration.host):\(configuration.port): \(message)")
        }
        self.context = context
        _ = redisEnableKeepAlive(context)
        setReplyTimeout(milliseconds: configuration.commandTimeoutMilliseconds)
        if let password = configuration.password {
            try send(RedisCommand("AUTH", password)).throwingError()
        }
        if configuration.database != 0 {
            try send(RedisCommand("SELECT", configuration.database)).throwingError()
        }
    }

    deinit { redisFree(context) }

    /// hiredis writes with write(2). On a socket the server has closed (a restart), a write
    /// raises SIGPIPE, whose default action ends the whole process; a large pipeline after a
    /// restart reliably gets there. Linux has no per-socket opt-out, so block the signal on the
    /// calling thread: a connection is created and used on the thread that owns it, and with the
    /// signal blocked the write fails with EPIPE and the call reports a connection failure.
    /// A thread-level mask leaves every other thread's (and the process's) handling alone.
    private static func blockBrokenPipeSignal() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    func setReplyTimeout(milliseconds: Int) {
        _ = redisSetTimeout(context, timeval(milliseconds: milliseconds))
    }

    func send(_ command: RedisCommand) throws -> RedisReply {
        try pipeline([command])[0]
    }

    /// Writes every command, then reads every reply: N commands, one round trip.
    func pipeline(_ commands: [RedisCommand]) throws -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        try pipeline(commands) { replies.append($0) }
        return replies
    }

    /// Like ``pipeline(_:)`` but hands each reply to `receive` as it is read.
    func pipeline(_ commands: [RedisCommand], receive: (RedisReply) -> Void) throws {
        guard !isBroken else { throw RedisError(code: .connectionFailure, message: "connection is broken") }
        try append(commands)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw brokenConnectionError()
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            receive(Self.convert(reply))
            freeReplyObject(raw)
        }
    }

    /// Pub/sub: queues `commands` without reading replies; the next ``readReply()`` sends them.
    /// A subscribed connection's replies and messages arrive in no fixed count per command.
    func write(_ commands: [RedisCommand]) throws {
        guard !isBroken else { throw RedisError(code: .connectionFailure, message: "connection is broken") }
        try append(commands)
    }

    /// Sends what is queued, then reads the next reply or pub/sub message (within the reply timeout).
    func readReply() throws -> RedisReply {
        guard !isBroken else { throw RedisError(code: .connectionFailure, message: "connection is broken") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw brokenConnectionError() }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Queues the whole batch in hiredis's output buffer with one call.
    ///
    /// The commands are encoded to RESP here, into a buffer reused across round trips, rather
    /// than by `redisAppendCommandArgv` per command, which formats each one into a fresh
    /// allocation (and needs an argv array per command) before copying it again: on a loaded
    /// machine that per-command work was a visible share of a pipelined round trip.
    private func append(_ commands: [RedisCommand]) throws {
        outgoing.removeAll(keepingCapacity: true)
        for command in commands { command.appendRESP(to: &outgoing) }
        let status = outgoing.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        // A huge batch (a bulk load) should not pin its buffer for the connection's lifetime.
        if outgoing.capacity > 1 << 20 { outgoing = [] }
        guard status == REDIS_OK else { throw brokenConnectionError() }
    }

    private func brokenConnectionError() -> RedisError {
        isBroken = true
        let message = Self.errorText(context)
        let code: RedisError.Code =
            message.contains("temporarily unavailable") || message.contains("timed out")
            ? .timeout : .connectionFailure
        return RedisError(code: code, message: message.isEmpty ? "connection lost" : message)
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(text(value.str, value.len))
        case REDIS_REPLY_ERROR:
            return .error(text(value.str, value.len))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { elements.append(convert(element)) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    /// Decodes straight from hiredis's buffer: "OK" and "QUEUED" fit a small String, so the
    /// commonest replies allocate nothing.
    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

extension timeval {
    init(milliseconds: Int) {
        self.init(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}
