/// One command as binary-safe arguments, sent with `redisAppendCommandArgv`/`redisCommandArgv`.
public struct RedisCommand: Sendable {
    /// All arguments back to back; `ends[i]` is where argument `i` stops.
    var bytes: [UInt8]
    var ends: [Int]

    public init(_ name: String, _ arguments: [any RedisArgument] = []) {
        bytes = []
        ends = []
        bytes.reserveCapacity(64)
        ends.reserveCapacity(arguments.count + 1)
        append(name)
        for argument in arguments { append(argument) }
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    public mutating func append(_ argument: any RedisArgument) {
        argument.appendRedisBytes(to: &bytes)
        ends.append(bytes.count)
    }

    public var argumentCount: Int { ends.count }
}

/// A value that can be sent as one Redis argument.
public protocol RedisArgument: Sendable {
    func appendRedisBytes(to buffer: inout [UInt8])
}

extension String: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Int: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendRedisBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}
