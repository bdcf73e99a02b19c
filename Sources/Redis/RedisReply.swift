/// A reply from Redis, with the bytes of bulk strings kept as they came (binary-safe).
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    /// The reply as text (bulk or status); nil for anything else.
    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .bulk(let bytes): return Int(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Throws the server's error reply as a ``RedisError``; returns the reply otherwise.
    @discardableResult
    public func throwingError() throws -> RedisReply {
        if case .error(let message) = self {
            throw RedisError(code: Self.code(ofError: message), message: message)
        }
        return self
    }

    /// The error code of an error reply, by the prefix Redis gives it.
    static func code(ofError message: String) -> RedisError.Code {
        let prefix = message.prefix { $0 != " " }
        switch prefix {
        case "NOSCRIPT": return .noScript
        case "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN": return .unavailable
        default: return .server
        }
    }

    public func requireInt() throws -> Int {
        guard let value = try throwingError().int else {
            throw RedisError(code: .unexpectedReply, message: "expected an integer reply, got \(kindName)")
        }
        return value
    }

    public func requireArray() throws -> [RedisReply] {
        guard let value = try throwingError().array else {
            throw RedisError(code: .unexpectedReply, message: "expected an array reply, got \(kindName)")
        }
        return value
    }

    var kindName: String {
        switch self {
        case .status: "status"
        case .error: "error"
        case .integer: "integer"
        case .bulk: "bulk string"
        case .null: "null"
        case .array: "array"
        }
    }
}
