/// Which master serves each hash slot, as `CLUSTER SLOTS` last told us (and `MOVED` corrected).
public struct RedisClusterMap: Sendable, Equatable {
    /// The masters, in the order first seen.
    public private(set) var masters: [RedisEndpoint] = []
    /// Slot → index into `masters`; -1 while no master is known for it.
    private var owners: [Int16]

    public init() { owners = Array(repeating: -1, count: RedisClusterSlot.count) }

    /// Reads a `CLUSTER SLOTS` reply: ranges of `[start, end, [host, port, id…], replicas…]`.
    /// An empty host means "the node you asked" (Redis's answer when it does not know its own
    /// address), so `asked` fills it in.
    public init(slotsReply reply: RedisReply, asked: RedisEndpoint) throws {
        self.init()
        for range in try reply.requireArray() {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                let master = parts[2].array, master.count >= 2, let host = master[0].string, let port = master[1].int,
                0 <= start, start <= end, end < RedisClusterSlot.count
            else { throw RedisError(code: .unexpectedReply, message: "CLUSTER SLOTS answered a range of an unexpected shape") }
            let endpoint = RedisEndpoint(host: host.isEmpty || host == "?" ? asked.host : host, port: port)
            let index = Int16(indexOf(endpoint))
            for slot in start...end { owners[slot] = index }
        }
    }

    public func master(forSlot slot: Int) -> RedisEndpoint? {
        let index = owners[slot]
        return index < 0 ? nil : masters[Int(index)]
    }

    /// Whether every slot has a master (a cluster still forming, or one with a shard lost, has not).
    public var coversAllSlots: Bool { !owners.contains(-1) }

    /// A `MOVED` reply: the slot now lives on `endpoint`, until the next full refresh says more.
    public mutating func assign(slot: Int, to endpoint: RedisEndpoint) {
        owners[slot] = Int16(indexOf(endpoint))
    }

    private mutating func indexOf(_ endpoint: RedisEndpoint) -> Int {
        if let index = masters.firstIndex(of: endpoint) { return index }
        masters.append(endpoint)
        return masters.count - 1
    }
}
