/// One command as binary-safe arguments; the connection encodes it to RESP when it sends it.
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

    /// Appends the command in RESP: `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
    func appendRESP(to buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + bytes.count + 16 * ends.count + 16)
        buffer.append(UInt8(ascii: "*"))
        appendDecimal(ends.count, to: &buffer)
        buffer.append(contentsOf: crlf)
        bytes.withUnsafeBufferPointer { arguments in
            var start = 0
            for end in ends {
                buffer.append(UInt8(ascii: "$"))
                appendDecimal(end - start, to: &buffer)
                buffer.append(contentsOf: crlf)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: arguments[start..<end]))
                buffer.append(contentsOf: crlf)
                start = end
            }
        }
    }
}

private let crlf: [UInt8] = [13, 10]

/// Appends a non-negative integer in decimal, without going through String.
private func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
    if value < 10 {
        buffer.append(UInt8(48 + value))
        return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits, more than Int has
    withUnsafeMutableBytes(of: &digits) { scratch in
        var rest = value
        var start = scratch.count
        while rest > 0 {
            start -= 1
            scratch[start] = UInt8(48 + rest % 10)
            rest /= 10
        }
        buffer.append(contentsOf: scratch[start...])
    }
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
