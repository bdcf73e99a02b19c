/// An error from Redis or from this client. `description` never includes command arguments.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Could not connect, or the connection broke; the command may or may not have run.
        public static let connectionFailure = Code("connection-failure")
        /// No reply within the configured timeout.
        public static let timeout = Code("timeout")
        /// The server answered with an error reply (see `message`).
        public static let server = Code("server")
        /// The server cannot serve commands for now (`LOADING` its data after a restart, `BUSY`
        /// running a script, `MASTERDOWN`, `TRYAGAIN`): retry later; nothing was executed.
        public static let unavailable = Code("unavailable")
        /// `EVALSHA` named a script the server does not have.
        public static let noScript = Code("noscript")
        /// A reply did not have the shape the caller expected.
        public static let unexpectedReply = Code("unexpected-reply")
        /// The client is shut down.
        public static let closed = Code("closed")
    }

    public let code: Code
    public let message: String
    /// True when the commands never left this process (the connection could not be made), so
    /// sending them again elsewhere cannot run them twice: the cluster client retries those.
    public var notSent = false

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "Redis error (\(code.rawValue)): \(message)" }
}
