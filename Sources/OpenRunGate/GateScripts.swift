import Redis

/// The gate's atomic steps (see ``AdmissionGate``). Keys: the gate hash (`open`, `remaining`),
/// the buyers set, the pending sorted set (buyer → admission time in ms), and the owners hash
/// (pending buyer → the token of the request that admitted them).
enum GateScripts {
    /// KEYS: gate, buyers, pending, owners. ARGV: user id, deadline (ms, by Redis's clock), token.
    /// A decision made after the deadline is refused as 'late', changing nothing: the caller has
    /// given up waiting by then, and an admission nobody confirms or compensates would hold a
    /// unit and lock its customer out. Admissions are timed by Redis's clock too, so the pending
    /// horizon of ``reconcile`` never compares two hosts' clocks.
    static let admit = RedisScript(
        """
        \(RedisScript.nowMillisecondsLua)
        if now >= tonumber(ARGV[2]) then return 'late' end
        local state = redis.call('HMGET', KEYS[1], 'open', 'remaining')
        if not state[1] then return 'missing' end
        if state[1] == 'none' then return 'not-found' end
        if state[1] ~= '1' then return 'not-open' end
        if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'already-purchased' end
        if tonumber(state[2]) <= 0 then return 'sold-out' end
        redis.call('HINCRBY', KEYS[1], 'remaining', -1)
        redis.call('SADD', KEYS[2], ARGV[1])
        redis.call('ZADD', KEYS[3], now, ARGV[1])
        redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
        return 'admitted'
        """)

    /// KEYS: pending, owners. ARGV: user id. The admitted buyer's order is committed.
    static let confirmed = RedisScript(
        """
        redis.call('HDEL', KEYS[2], ARGV[1])
        return redis.call('ZREM', KEYS[1], ARGV[1])
        """)

    /// KEYS: gate, buyers, pending, owners. ARGV: user id, keep buyer (1/0).
    /// The admitted buyer got no order: the unit goes back.
    static let compensate = RedisScript(
        """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[4], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'remaining', 1)
        if ARGV[2] == '0' then redis.call('SREM', KEYS[2], ARGV[1]) end
        return 1
        """)

    /// KEYS: gate, buyers, pending, owners. ARGV: user id, token.
    /// The request holding `token` stopped waiting for its admission's answer: if it was
    /// admitted, undo that admission (the unit goes back; the customer may buy again). Only that
    /// request's admission: another request of the same customer holds another token.
    static let abandon = RedisScript(
        """
        if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
        redis.call('HDEL', KEYS[4], ARGV[1])
        if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
        redis.call('SREM', KEYS[2], ARGV[1])
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'remaining', 1) end
        return 1
        """)

    /// KEYS: gate. ARGV: count. Released units go back on sale (if the gate exists; a missing
    /// gate is rebuilt from PostgreSQL, which already counts them).
    static let returnUnits = RedisScript(
        """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        redis.call('HINCRBY', KEYS[1], 'remaining', ARGV[1])
        return 1
        """)

    /// KEYS: gate, buyers, pending, owners. ARGV: open (1/0), available, pending horizon ms, phase,
    /// buyers… Builds a missing gate (replacing a remembered refusal); otherwise, unless the gate
    /// already holds a later phase (the snapshot is stale), sets `open` and `phase` and repairs
    /// `remaining = available − pending`, counting as pending only admissions younger than the
    /// horizon (an intake process that died between admission and confirmation must not hold a
    /// unit forever) and not those whose buyer PostgreSQL shows holding an order (confirmed,
    /// though the confirmation did not reach Redis). The buyers become exactly PostgreSQL's
    /// buyers and those still pending: a customer admitted whose purchase came to nothing, and
    /// whose compensation was lost, may buy again. Owners of admissions no longer pending go.
    static let reconcile = RedisScript(
        """
        local changed = 0
        \(RedisScript.nowMillisecondsLua)
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
        for i = 5, #ARGV, 1000 do
          if redis.call('ZREM', KEYS[3], unpack(ARGV, i, math.min(i + 999, #ARGV))) > 0 then changed = 1 end
        end
        local open = redis.call('HGET', KEYS[1], 'open')
        if (not open) or open == 'none' then
          redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
          redis.call('HSET', KEYS[1], 'open', ARGV[1], 'remaining', ARGV[2], 'phase', ARGV[4])
          changed = 1
        else
          if tonumber(redis.call('HGET', KEYS[1], 'phase') or '-1') > tonumber(ARGV[4]) then return changed end
          redis.call('PERSIST', KEYS[1])
          redis.call('HSET', KEYS[1], 'phase', ARGV[4])
          if open ~= ARGV[1] then
            redis.call('HSET', KEYS[1], 'open', ARGV[1])
            changed = 1
          end
          local remaining = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[3])
          if remaining < 0 then remaining = 0 end
          if tonumber(redis.call('HGET', KEYS[1], 'remaining') or '0') ~= remaining then
            redis.call('HSET', KEYS[1], 'remaining', remaining)
            changed = 1
          end
        end
        local keep = {}
        for i = 5, #ARGV do
          keep[ARGV[i]] = true
          if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then changed = 1 end
        end
        for _, buyer in ipairs(redis.call('SMEMBERS', KEYS[2])) do
          if not keep[buyer] and not redis.call('ZSCORE', KEYS[3], buyer) then
            redis.call('SREM', KEYS[2], buyer)
            changed = 1
          end
        end
        for _, owner in ipairs(redis.call('HKEYS', KEYS[4])) do
          if not redis.call('ZSCORE', KEYS[3], owner) then redis.call('HDEL', KEYS[4], owner) end
        end
        return changed
        """)

    /// KEYS: gate. ARGV: open ("0" not for sale, "none" unknown id), seconds.
    /// Remembers a refusal unless a gate is there already.
    static let remember = RedisScript(
        """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'open', ARGV[1], 'remaining', 0)
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        return 1
        """)

    /// KEYS: gate. Forgets that the id was unknown (the drop was just created).
    static let forgetUnknown = RedisScript(
        """
        if redis.call('HGET', KEYS[1], 'open') == 'none' then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
