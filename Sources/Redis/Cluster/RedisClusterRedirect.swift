/// What a cluster client does with one reply: keep it, or send the command again elsewhere.
public enum RedisClusterDisposition: Equatable, Sendable {
    /// The command's answer (including ordinary error replies).
    case final
    /// `MOVED slot host:port`: the slot lives elsewhere for good; update the map, resend there.
    case moved(slot: Int, to: RedisEndpoint)
    /// `ASK slot host:port`: the slot is migrating and this key already left; resend there once,
    /// preceded by `ASKING`, without changing the map.
    case ask(slot: Int, to: RedisEndpoint)
    /// `TRYAGAIN` (keys of a migrating slot split between nodes) or `CLUSTERDOWN` (a shard has no
    /// master, e.g. mid-failover): nothing ran; resend after a short wait.
    case retryLater

    public init(reply: RedisReply) {
        guard case .error(let message) = reply else {
            self = .final
            return
        }
        let words = message.split(separator: " ")
        switch words.first {
        case "MOVED", "ASK":
            guard words.count >= 3, let slot = Int(words[1]), (0..<RedisClusterSlot.count).contains(slot),
                let endpoint = RedisEndpoint(parsing: words[2])
            else {
                self = .final
                return
            }
            self = words[0] == "MOVED" ? .moved(slot: slot, to: endpoint) : .ask(slot: slot, to: endpoint)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        default:
            self = .final
        }
    }
}
