extension RedisScript {
    /// Lua that sets the local `now` to Redis's time in milliseconds since the epoch (`TIME`).
    ///
    /// Scripts that compare times with times other hosts wrote read this one clock, so no two
    /// hosts' clocks are ever compared. (Redis 7 replicates a script's effects, not the script,
    /// so a script that reads `TIME` may write.)
    public static let nowMillisecondsLua = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        """
}
