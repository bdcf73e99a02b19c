/// An error from PostgreSQL or from this client.
///
/// `description` is safe to log: it carries the server's message and SQLSTATE but never the
/// statement's parameters, which may hold personal data or secrets.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a stable value to branch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The SQLSTATE, or a client-side code starting with `FS` (never a real SQLSTATE class).
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Server SQLSTATEs this project branches on.
        public static let uniqueViolation = Code("23505")
        public static let foreignKeyViolation = Code("23503")
        public static let checkViolation = Code("23514")
        public static let notNullViolation = Code("23502")
        public static let serializationFailure = Code("40001")
        public static let deadlockDetected = Code("40P01")
        public static let lockNotAvailable = Code("55P03")
        public static let queryCanceled = Code("57014")
        public static let adminShutdown = Code("57P01")
        public static let cannotConnectNow = Code("57P03")
        public static let undefinedTable = Code("42P01")
        public static let syntaxError = Code("42601")
        public static let invalidTextRepresentation = Code("22P02")

        // Client-side conditions.
        /// The connection could not be made or was lost; the statement's fate is unknown only if
        /// it was a COMMIT, otherwise it did not take effect.
        public static let connectionFailure = Code("FS001")
        /// A column could not be decoded as the requested type.
        public static let decoding = Code("FS002")
        /// The server answered in a way the client did not expect (for example COPY state).
        public static let protocolViolation = Code("FS003")
        /// The pool is shut down.
        public static let poolClosed = Code("FS004")
        /// No pooled connection became free within the pool's acquire timeout; nothing was sent.
        public static let poolTimeout = Code("FS005")
    }

    public let code: Code
    public let message: String
    public let detail: String?
    /// The constraint named by the server for integrity violations.
    public let constraint: String?
    /// The connection failed while waiting for a COMMIT's answer: the transaction may or may
    /// not have committed (set by ``PostgresConnection/transaction(isolation:_:)``).
    public internal(set) var mayHaveCommitted = false

    public init(code: Code, message: String, detail: String? = nil, constraint: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.constraint = constraint
    }

    /// Whether retrying the whole transaction may succeed.
    public var isTransient: Bool {
        switch code {
        case .serializationFailure, .deadlockDetected, .connectionFailure, .adminShutdown, .cannotConnectNow:
            return true
        default:
            return false
        }
    }

    /// Whether the error says the server is unreachable, hung or going away, rather than
    /// anything about the statement: trying again at once, statement by statement, cannot help.
    public var meansStoreUnavailable: Bool {
        switch code {
        case .connectionFailure, .poolClosed, .adminShutdown, .cannotConnectNow: return true
        default: return false
        }
    }

    public var description: String {
        var text = "PostgreSQL error \(code.rawValue): \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }
}
