import Crypto
import TextEncodings

/// A Lua script run by its SHA-1 (`EVALSHA`). The client loads it with `SCRIPT LOAD` the first
/// time the server answers `NOSCRIPT` (a fresh or restarted server), then runs it again.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).lowercaseHex
    }

    /// The `EVALSHA` command for these keys and arguments.
    public func command(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha1, keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }
}
