import Redis

/// The queue's atomic operations. Each moves a job between structures in one script, so a job is
/// always in exactly one place (queue, a worker's in-flight hash, delayed, dead) even if the
/// process issuing the script dies right after.
enum QueueScripts {
    /// Envelope fields: v1|id|kind|queue|attempt|max_attempts|visibility_ms|enqueued_ms|unique|payload
    private static let parse = """
        local function parse(env)
          return string.match(env, '^v1|([^|]*)|([^|]*)|([^|]*)|(%d+)|(%d+)|(%d+)|(%d+)|([^|]*)|(.*)$')
        end
        local function rebuild(id, kind, queue, attempt, max, vis, enq, uniq, payload)
          return table.concat({'v1', id, kind, queue, attempt, max, vis, enq, uniq, payload}, '|')
        end
        """

    /// `nowFrom(argument)`: the time a script was given (a test's manual clock) or, given 0,
    /// Redis's own (see ``JobClock``).
    /// (Starts on a new line, so that it can follow another snippet.)
    private static let now = """

        local function nowFrom(argument)
          local given = tonumber(argument)
          if given > 0 then return given end
          \(RedisScript.nowMillisecondsLua)
          return now
        end
        """

    /// KEYS: queue list, unique hash, delayed zset, queues set.
    /// ARGV: envelope, id, unique key ('' for none), run-at ms (0 = now), queue name, now ms.
    /// A run-at still ahead of now delays the job; one already past queues it.
    /// Returns 1 when enqueued, 0 when a job with the unique key already waits or runs.
    static let enqueue = RedisScript(now + """

        if ARGV[3] ~= '' and redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[2]) == 0 then return 0 end
        redis.call('SADD', KEYS[4], ARGV[5])
        local at = tonumber(ARGV[4])
        if at > 0 and at > nowFrom(ARGV[6]) then
          redis.call('ZADD', KEYS[3], at, ARGV[1])
        else
          redis.call('RPUSH', KEYS[1], ARGV[1])
        end
        return 1
        """)

    /// KEYS: queue list, in-flight hash, malformed list. ARGV: max jobs.
    /// Moves up to N jobs from the head of the queue into the worker's in-flight hash.
    static let fetch = RedisScript("""
        local jobs = redis.call('LPOP', KEYS[1], ARGV[1])
        if not jobs then return {} end
        local fields = {}
        local taken = {}
        for _, env in ipairs(jobs) do
          local id = string.match(env, '^v1|([^|]+)|')
          if id then
            fields[#fields + 1] = id
            fields[#fields + 1] = env
            taken[#taken + 1] = env
          else
            redis.call('RPUSH', KEYS[3], env)
          end
        end
        if #fields > 0 then redis.call('HSET', KEYS[2], unpack(fields)) end
        return taken
        """)

    /// KEYS: landing list, in-flight hash, malformed list.
    /// Moves what a blocking `BLMOVE` landed into the in-flight hash.
    static let adopt = RedisScript("""
        local taken = {}
        while true do
          local env = redis.call('LPOP', KEYS[1])
          if not env then break end
          local id = string.match(env, '^v1|([^|]+)|')
          if id then
            redis.call('HSET', KEYS[2], id, env)
            taken[#taken + 1] = env
          else
            redis.call('RPUSH', KEYS[3], env)
          end
        end
        return taken
        """)

    /// KEYS: in-flight hash, unique hash. ARGV: id1, unique1, id2, unique2, …
    /// Removes finished jobs; releases their unique keys. Returns how many were still in flight.
    static let acknowledge = RedisScript("""
        local done = 0
        for i = 1, #ARGV, 2 do
          if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
            done = done + 1
            local key = ARGV[i + 1]
            if key ~= '' and redis.call('HGET', KEYS[2], key) == ARGV[i] then redis.call('HDEL', KEYS[2], key) end
          end
        end
        return done
        """)

    /// KEYS: in-flight hash, delayed zset. ARGV: id, next-attempt envelope, delay ms, now ms.
    static let retry = RedisScript(now + """

        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], nowFrom(ARGV[4]) + tonumber(ARGV[3]), ARGV[2])
        return 1
        """)

    /// KEYS: in-flight hash, dead zset, dead jobs hash, dead errors hash, unique hash.
    /// ARGV: id, envelope, now ms, error, unique key.
    static let bury = RedisScript(now + """

        if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('ZADD', KEYS[2], nowFrom(ARGV[3]), ARGV[1])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
        if ARGV[5] ~= '' and redis.call('HGET', KEYS[5], ARGV[5]) == ARGV[1] then redis.call('HDEL', KEYS[5], ARGV[5]) end
        return 1
        """)

    /// KEYS: workers zset. ARGV: worker, now ms. Records the worker's heartbeat.
    static let heartbeat = RedisScript(now + """

        redis.call('ZADD', KEYS[1], nowFrom(ARGV[2]), ARGV[1])
        return 1
        """)

    /// KEYS: in-flight hash. ARGV: prefix, ids…
    /// Hands jobs back to the front of their queues (graceful shutdown); the attempt is not spent.
    static let release = RedisScript(parse + """

        local released = 0
        for i = 2, #ARGV do
          local env = redis.call('HGET', KEYS[1], ARGV[i])
          if env then
            local id, kind, queue = parse(env)
            redis.call('LPUSH', ARGV[1] .. 'q:' .. queue, env)
            redis.call('HDEL', KEYS[1], ARGV[i])
            released = released + 1
          end
        end
        return released
        """)

    /// KEYS: delayed zset. ARGV: now ms, limit, prefix. Moves due jobs to the tail of their queues.
    static let promote = RedisScript(parse + now + """

        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowFrom(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
        for _, env in ipairs(due) do
          local id, kind, queue = parse(env)
          if queue then
            redis.call('RPUSH', ARGV[3] .. 'q:' .. queue, env)
          else
            redis.call('RPUSH', ARGV[3] .. 'malformed', env)
          end
          redis.call('ZREM', KEYS[1], env)
        end
        return #due
        """)

    /// KEYS: workers zset, dead zset, dead jobs hash, dead errors hash, unique hash.
    /// ARGV: now ms, prefix, smallest visibility ms of any kind, forget-after ms.
    /// For every worker whose heartbeat is older than a job's visibility timeout, puts the job back
    /// at the front of its queue as its next attempt (or buries it if that was its last). Returns
    /// {rescued, buried}.
    static let rescue = RedisScript(parse + now + """

        local now = nowFrom(ARGV[1])
        local prefix = ARGV[2]
        local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'WITHSCORES')
        local rescued, buried = 0, 0
        local function recover(env, age)
          local id, kind, queue, attempt, max, vis, enq, uniq, payload = parse(env)
          if not id then
            redis.call('RPUSH', prefix .. 'malformed', env)
            return true
          end
          if age <= tonumber(vis) then return false end
          if tonumber(attempt) >= tonumber(max) then
            redis.call('ZADD', KEYS[2], now, id)
            redis.call('HSET', KEYS[3], id, env)
            redis.call('HSET', KEYS[4], id, 'worker stopped heartbeating during the last attempt')
            if uniq ~= '' and redis.call('HGET', KEYS[5], uniq) == id then redis.call('HDEL', KEYS[5], uniq) end
            buried = buried + 1
          else
            local next = rebuild(id, kind, queue, tonumber(attempt) + 1, max, vis, enq, uniq, payload)
            redis.call('LPUSH', prefix .. 'q:' .. queue, next)
            rescued = rescued + 1
          end
          return true
        end
        for i = 1, #stale, 2 do
          local worker = stale[i]
          local age = now - tonumber(stale[i + 1])
          local inflight = prefix .. 'inflight:' .. worker
          local landing = prefix .. 'wip:' .. worker
          local all = redis.call('HGETALL', inflight)
          for j = 1, #all, 2 do
            if recover(all[j + 1], age) then redis.call('HDEL', inflight, all[j]) end
          end
          for _, env in ipairs(redis.call('LRANGE', landing, 0, -1)) do
            if recover(env, age) then redis.call('LREM', landing, 1, env) end
          end
          if age > tonumber(ARGV[4]) and redis.call('HLEN', inflight) == 0 and redis.call('LLEN', landing) == 0 then
            redis.call('ZREM', KEYS[1], worker)
          end
        end
        return {rescued, buried}
        """)

    /// KEYS: dead zset, dead jobs hash, dead errors hash, unique hash. ARGV: id, prefix.
    /// Re-queues a dead job as a fresh first attempt. Returns 1, 0 when there is no such dead job,
    /// -1 when another job now holds its unique key.
    static let resurrect = RedisScript(parse + """

        local env = redis.call('HGET', KEYS[2], ARGV[1])
        if not env then return 0 end
        local id, kind, queue, attempt, max, vis, enq, uniq, payload = parse(env)
        if uniq ~= '' and redis.call('HSETNX', KEYS[4], uniq, id) == 0 then return -1 end
        redis.call('RPUSH', ARGV[2] .. 'q:' .. queue, rebuild(id, kind, queue, 1, max, vis, enq, uniq, payload))
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        return 1
        """)
}
