extension RedisReply {
    /// The answer to `TIME` (seconds and microseconds) as milliseconds since the epoch.
    public func timeMilliseconds() throws -> Int {
        let parts = try throwingError().requireArray()
        guard parts.count == 2, let seconds = parts[0].int, let microseconds = parts[1].int else {
            throw RedisError(code: .unexpectedReply, message: "TIME answered \(self)")
        }
        return seconds * 1000 + microseconds / 1000
    }
}
