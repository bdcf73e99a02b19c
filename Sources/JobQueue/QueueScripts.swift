import Redis

/// The queue's atomic operations. Each moves a job between structures in one script, so a job is
/// always in exactly one place (queue, a worker's in-flight hash, delayed, dead) even if the
/// process issuing the script dies right after.
///
/// Every script works on ONE queue's keys (``QueueKeys/Queue``, one hash tag): the keys it
/// computes inside Lua (a worker's in-flight hash, a counter) are built from that queue's stem,
/// so on a Redis Cluster each call stays on the queue's slot.
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

    /// `countMinute(key, n)`: adds n to a per-minute counter (``QueueKeys/stats(_:queue:)``) that
    /// expires once the console's hour has passed (65 minutes, so the oldest shown minute is whole).
    private static let countMinute = """

        local function countMinute(key, count)
          redis.call('INCRBY', key, count)
          redis.call('EXPIRE', key, 3900)
        end
        """

    /// KEYS: queue list, unique hash, delayed zset.
    /// ARGV: envelope, id, unique key ('' for none), run-at ms (0 = now), now ms.
    /// A run-at still ahead of now delays the job; one already past queues it.
    /// Returns 1 when enqueued, 0 when a job with the unique key already waits or runs.
    /// (The queue's name goes into the set of queues beforehand, outside: that set is in
    /// another slot.)
    static let enqueue = RedisScript(
        now + """

            if ARGV[3] ~= '' and redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[2]) == 0 then return 0 end
            local at = tonumber(ARGV[4])
            if at > 0 and at > nowFrom(ARGV[5]) then
              redis.call('ZADD', KEYS[3], at, ARGV[1])
            else
              redis.call('RPUSH', KEYS[1], ARGV[1])
            end
            return 1
            """)

    /// The taking scripts' shared part. ARGV: max jobs (fetch only), now ms, worker, default
    /// in-flight deadline ms, then kind, deadline ms pairs.
    /// `take(envs)` puts jobs into the in-flight hash (KEYS[2]), each with a deadline of its own in
    /// the deadlines zset (KEYS[4], member `worker|id`), so that the rescuer takes it once the
    /// deadline passes even while its worker heartbeats; anything that is not an envelope goes
    /// to the malformed list (KEYS[3]). Returns the jobs taken. One `HSET` and one `ZADD` per few
    /// hundred jobs (a fetch is one batch), and Redis's time is read only when a job is taken.
    private static let take =
        now + """

            local holds = {}
            for i = 5, #ARGV, 2 do holds[ARGV[i]] = tonumber(ARGV[i + 1]) end
            local function take(envs)
              local taken, fields, deadlines = {}, {}, {}
              local takenAt = nil
              local function flush()
                if #fields > 0 then
                  redis.call('HSET', KEYS[2], unpack(fields))
                  redis.call('ZADD', KEYS[4], unpack(deadlines))
                  fields, deadlines = {}, {}
                end
              end
              for _, env in ipairs(envs) do
                local id, kind = string.match(env, '^v1|([^|]+)|([^|]*)|')
                if id then
                  takenAt = takenAt or nowFrom(ARGV[2])
                  fields[#fields + 1] = id
                  fields[#fields + 1] = env
                  deadlines[#deadlines + 1] = takenAt + (holds[kind] or tonumber(ARGV[4]))
                  deadlines[#deadlines + 1] = ARGV[3] .. '|' .. id
                  taken[#taken + 1] = env
                  -- (unpack's arguments live on Lua's C stack, a few thousand at most.)
                  if #fields >= 1000 then flush() end
                else
                  redis.call('RPUSH', KEYS[3], env)
                end
              end
              flush()
              return taken
            end
            local function adoptLanding()
              local taken = {}
              while true do
                local envs = redis.call('LPOP', KEYS[1], 500)
                if not envs then break end
                for _, env in ipairs(take(envs)) do taken[#taken + 1] = env end
              end
              return taken
            end
            """

    /// KEYS: queue list, in-flight hash, malformed list, deadlines zset. ARGV: see `take`.
    /// Moves up to N jobs from the head of the queue into the worker's in-flight hash.
    static let fetch = RedisScript(
        take + """

            local envs = redis.call('LPOP', KEYS[1], ARGV[1])
            if not envs then return {} end
            return take(envs)
            """)

    /// KEYS: landing list, in-flight hash, malformed list, deadlines zset. ARGV: see `take`.
    /// Moves what a blocking `BLMOVE` landed into the in-flight hash.
    static let adopt = RedisScript(
        take + """

            return adoptLanding()
            """)

    /// KEYS: landing list, in-flight hash, malformed list, deadlines zset. ARGV: see `take`.
    /// After a taking call whose answer never came: adopts what is still landed and returns every
    /// job in the worker's in-flight hash, so the worker finds the jobs it holds without knowing.
    static let recover = RedisScript(
        take + """

            adoptLanding()
            return redis.call('HVALS', KEYS[2])
            """)

    /// KEYS: in-flight hash, unique hash, deadlines zset (all of the jobs' queue). ARGV: worker,
    /// now ms, processed-counter stem (the queue's stem + `stats:processed:`), then id, unique
    /// key, queue of each job.
    /// Removes finished jobs; releases their unique keys; counts them per queue and minute.
    /// Returns how many were still in flight.
    static let acknowledge = RedisScript(
        now + countMinute + """

            local done = 0
            local members = {}
            local perQueue = {}
            for i = 4, #ARGV, 3 do
              if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
                done = done + 1
                members[#members + 1] = ARGV[1] .. '|' .. ARGV[i]
                if #members >= 1000 then
                  redis.call('ZREM', KEYS[3], unpack(members))
                  members = {}
                end
                local key = ARGV[i + 1]
                if key ~= '' and redis.call('HGET', KEYS[2], key) == ARGV[i] then redis.call('HDEL', KEYS[2], key) end
                perQueue[ARGV[i + 2]] = (perQueue[ARGV[i + 2]] or 0) + 1
              end
            end
            if #members > 0 then redis.call('ZREM', KEYS[3], unpack(members)) end
            -- One counter per queue per batch (a batch is nearly always one queue): INCRBY + EXPIRE.
            local minute
            for queue, count in pairs(perQueue) do
              minute = minute or math.floor(nowFrom(ARGV[2]) / 60000)
              countMinute(ARGV[3] .. queue .. ':' .. minute, count)
            end
            return done
            """)

    /// KEYS: in-flight hash, delayed zset, deadlines zset. ARGV: id, next-attempt envelope, delay ms,
    /// now ms, worker, the queue's failed-counter stem.
    static let retry = RedisScript(
        now + countMinute + """

            if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
            redis.call('ZREM', KEYS[3], ARGV[5] .. '|' .. ARGV[1])
            local now = nowFrom(ARGV[4])
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
            countMinute(ARGV[6] .. math.floor(now / 60000), 1)
            return 1
            """)

    /// KEYS: in-flight hash, dead zset, dead jobs hash, dead errors hash, unique hash, deadlines zset.
    /// ARGV: id, envelope, now ms, error, unique key, worker, the queue's failed-counter stem.
    static let bury = RedisScript(
        now + countMinute + """

            if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
            redis.call('ZREM', KEYS[6], ARGV[6] .. '|' .. ARGV[1])
            local now = nowFrom(ARGV[3])
            redis.call('ZADD', KEYS[2], now, ARGV[1])
            countMinute(ARGV[7] .. math.floor(now / 60000), 1)
            redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
            redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
            if ARGV[5] ~= '' and redis.call('HGET', KEYS[5], ARGV[5]) == ARGV[1] then redis.call('HDEL', KEYS[5], ARGV[5]) end
            return 1
            """)

    /// KEYS: workers zset. ARGV: worker, now ms. Records the worker's heartbeat.
    static let heartbeat = RedisScript(
        now + """

            redis.call('ZADD', KEYS[1], nowFrom(ARGV[2]), ARGV[1])
            return 1
            """)

    /// Puts a job taken from a worker back at the front of its queue (`queueKey`), its attempt
    /// not spent (unreadable ones to the malformed list). The unique key stays held: the job
    /// still waits.
    private static let handBack =
        parse + """

            local function handBack(queueKey, malformedKey, env)
              if parse(env) then
                redis.call('LPUSH', queueKey, env)
              else
                redis.call('RPUSH', malformedKey, env)
              end
            end
            """

    /// KEYS: in-flight hash, deadlines zset, queue list, malformed list (one queue's). ARGV: worker, ids…
    /// Hands jobs back to the front of their queue (graceful shutdown); the attempt is not spent.
    static let release = RedisScript(
        handBack + """

            local released = 0
            for i = 2, #ARGV do
              local env = redis.call('HGET', KEYS[1], ARGV[i])
              if env then
                handBack(KEYS[3], KEYS[4], env)
                redis.call('HDEL', KEYS[1], ARGV[i])
                redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. ARGV[i])
                released = released + 1
              end
            end
            return released
            """)

    /// KEYS: in-flight hash, landing list, deadlines zset, queue list, malformed list (one
    /// queue's). ARGV: worker.
    /// A worker's graceful end, queue by queue: hands back to the queue whatever the worker still
    /// holds from it, in flight or landed (a job whose taking call went unanswered, an outcome
    /// that could not be recorded before the stop), so no job is deleted with the hash and no
    /// unique key is left held by a job that no longer exists. The worker deregisters only after
    /// every queue. Returns how many were handed back.
    static let retire = RedisScript(
        handBack + """

            local handed = 0
            local all = redis.call('HGETALL', KEYS[1])
            for j = 1, #all, 2 do
              handBack(KEYS[4], KEYS[5], all[j + 1])
              redis.call('ZREM', KEYS[3], ARGV[1] .. '|' .. all[j])
              handed = handed + 1
            end
            for _, env in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
              handBack(KEYS[4], KEYS[5], env)
              handed = handed + 1
            end
            redis.call('DEL', KEYS[1], KEYS[2])
            return handed
            """)

    /// KEYS: delayed zset, queue list, malformed list (one queue's). ARGV: now ms, limit.
    /// Moves the queue's due jobs to its tail.
    static let promote = RedisScript(
        parse + now + """

            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowFrom(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
            for _, env in ipairs(due) do
              if parse(env) then
                redis.call('RPUSH', KEYS[2], env)
              else
                redis.call('RPUSH', KEYS[3], env)
              end
              redis.call('ZREM', KEYS[1], env)
            end
            return #due
            """)

    /// KEYS (one queue's): dead zset, dead jobs hash, dead errors hash, unique hash, deadlines
    /// zset, queue list, malformed list.
    /// ARGV: now ms, the queue's stem, smallest visibility ms of any kind, forget-after ms, most
    /// deadlines per call, then worker, last heartbeat ms of every registered worker (read from
    /// the workers zset just before: that zset is in another slot).
    /// Puts back at the front of the queue as its next attempt (or buries, if that was its last)
    /// every job of the queue whose worker's heartbeat is older than the job's visibility timeout,
    /// and every job whose own in-flight deadline has passed, whether its worker heartbeats or not
    /// (a job its worker lost track of). Each such attempt counts as failed in its queue's minute,
    /// like an attempt its worker retried or buried (the console's "failed per minute"), whether
    /// the job goes back to its queue or, its attempts spent, to the dead jobs.
    /// Returns {rescued, buried, {workers silent past forget-after that hold nothing of this
    /// queue}}: a worker idle in every queue is then deregistered.
    static let rescue = RedisScript(
        parse + now + countMinute + """

            local now = nowFrom(ARGV[1])
            local stem = ARGV[2]
            local minute = math.floor(now / 60000)
            local rescued, buried = 0, 0
            local idle = {}
            local function recover(env, age, why)
              local id, kind, queue, attempt, max, vis, enq, uniq, payload = parse(env)
              if not id then
                redis.call('RPUSH', KEYS[7], env)
                return true
              end
              if age <= tonumber(vis) then return false end
              countMinute(stem .. 'stats:failed:' .. queue .. ':' .. minute, 1)
              if tonumber(attempt) >= tonumber(max) then
                redis.call('ZADD', KEYS[1], now, id)
                redis.call('HSET', KEYS[2], id, env)
                redis.call('HSET', KEYS[3], id, why)
                if uniq ~= '' and redis.call('HGET', KEYS[4], uniq) == id then redis.call('HDEL', KEYS[4], uniq) end
                buried = buried + 1
              else
                local next = rebuild(id, kind, queue, tonumber(attempt) + 1, max, vis, enq, uniq, payload)
                redis.call('LPUSH', KEYS[6], next)
                rescued = rescued + 1
              end
              return true
            end
            for i = 6, #ARGV - 1, 2 do
              local worker = ARGV[i]
              local age = now - tonumber(ARGV[i + 1])
              if age >= tonumber(ARGV[3]) then
                local inflight = stem .. 'inflight:' .. worker
                local landing = stem .. 'wip:' .. worker
                local all = redis.call('HGETALL', inflight)
                for j = 1, #all, 2 do
                  if recover(all[j + 1], age, 'worker stopped heartbeating during the last attempt') then
                    redis.call('HDEL', inflight, all[j])
                    redis.call('ZREM', KEYS[5], worker .. '|' .. all[j])
                  end
                end
                for _, env in ipairs(redis.call('LRANGE', landing, 0, -1)) do
                  if recover(env, age, 'worker stopped heartbeating during the last attempt') then redis.call('LREM', landing, 1, env) end
                end
                if age > tonumber(ARGV[4]) and redis.call('HLEN', inflight) == 0 and redis.call('LLEN', landing) == 0 then
                  idle[#idle + 1] = worker
                end
              end
            end
            -- (Exclusive: a deadline is passed once now is after it, as a heartbeat's age must exceed
            -- the visibility timeout.)
            local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[5]))
            for _, member in ipairs(due) do
              local worker, id = string.match(member, '^(.*)|([^|]*)$')
              local env = worker and redis.call('HGET', stem .. 'inflight:' .. worker, id)
              if env then
                recover(env, math.huge, 'the job outlived its in-flight deadline during the last attempt')
                redis.call('HDEL', stem .. 'inflight:' .. worker, id)
              end
              redis.call('ZREM', KEYS[5], member)
            end
            return {rescued, buried, idle}
            """)

    /// KEYS: workers zset, worker info hash. ARGV: worker, the heartbeat the rescue saw.
    /// Deregisters a worker the rescue found long silent and idle in every queue, unless it
    /// heartbeated since.
    static let forget = RedisScript(
        """
        local beat = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not beat or tonumber(beat) ~= tonumber(ARGV[2]) then return 0 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        return 1
        """)

    /// KEYS (one queue's): dead zset, dead jobs hash, dead errors hash, unique hash, queue list. ARGV: id.
    /// Re-queues a dead job as a fresh first attempt. Returns 1, 0 when there is no such dead job,
    /// -1 when another job now holds its unique key.
    static let resurrect = RedisScript(
        parse + """

            local env = redis.call('HGET', KEYS[2], ARGV[1])
            if not env then return 0 end
            local id, kind, queue, attempt, max, vis, enq, uniq, payload = parse(env)
            if uniq ~= '' and redis.call('HSETNX', KEYS[4], uniq, id) == 0 then return -1 end
            redis.call('RPUSH', KEYS[5], rebuild(id, kind, queue, 1, max, vis, enq, uniq, payload))
            redis.call('ZREM', KEYS[1], ARGV[1])
            redis.call('HDEL', KEYS[2], ARGV[1])
            redis.call('HDEL', KEYS[3], ARGV[1])
            return 1
            """)
}
