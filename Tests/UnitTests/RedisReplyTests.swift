import Redis
import Testing

/// Error replies become errors callers can branch on: a server that is only busy or still
/// loading is "unavailable" (retry), not a failed command.
@Suite struct RedisReplyTests {
    @Test func errorRepliesAreClassifiedByTheirPrefix() {
        let cases: [(String, RedisError.Code)] = [
            ("LOADING Redis is loading the dataset in memory", .unavailable),
            ("BUSY Redis is busy running a script.", .unavailable),
            ("MASTERDOWN Link with MASTER is down", .unavailable),
            ("TRYAGAIN Multiple keys request during rehashing", .unavailable),
            ("NOSCRIPT No matching script.", .noScript),
            ("WRONGTYPE Operation against a key holding the wrong kind of value", .server),
            ("ERR unknown command", .server),
        ]
        for (message, code) in cases {
            let error = #expect(throws: RedisError.self) { try RedisReply.error(message).throwingError() }
            #expect(error?.code == code, "\(message)")
            #expect(error?.message == message)
        }
        #expect(throws: Never.self) { try RedisReply.integer(1).throwingError() }
    }
}
