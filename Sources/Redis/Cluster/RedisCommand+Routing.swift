/// Where a command must go in a cluster: the slot of its first key, every master, or anywhere.
public enum RedisCommandRoute: Equatable, Sendable {
    /// The master owning this slot.
    case slot(Int)
    /// Every master (`SCRIPT LOAD`, `FLUSHALL`): each shard needs it; the first reply stands for all.
    case allMasters
    /// Any node (`PING`, `TIME`): no key, no state.
    case anyNode
}

extension RedisCommand {
    /// Argument `index` (0 is the command's name) as bytes.
    public func argumentBytes(_ index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : ends[index - 1]
        return bytes[start..<ends[index]]
    }

    var name: String { String(decoding: argumentBytes(0), as: UTF8.self).uppercased() }

    /// The route of this command. Multi-key commands are routed by their first key: the caller
    /// gives all their keys one hash tag (the server refuses a cross-slot command with `CROSSSLOT`).
    public var route: RedisCommandRoute {
        let name = self.name
        if Self.broadcast.contains(name) || (name == "SCRIPT" && argumentCount > 1) { return .allMasters }
        if Self.keyless.contains(name) { return .anyNode }
        switch name {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            // EVALSHA sha numkeys key…: a script without keys may run anywhere.
            guard argumentCount > 3, let count = Int(String(decoding: argumentBytes(2), as: UTF8.self)), count > 0 else {
                return .anyNode
            }
            return .slot(RedisClusterSlot.of(argumentBytes(3)))
        default:
            guard argumentCount > 1 else { return .anyNode }
            return .slot(RedisClusterSlot.of(argumentBytes(1)))
        }
    }

    private static let broadcast: Set<String> = ["FLUSHALL", "FLUSHDB"]
    private static let keyless: Set<String> = [
        "PING", "TIME", "INFO", "CLUSTER", "DBSIZE", "ECHO", "AUTH", "SELECT", "ASKING", "READONLY",
        "CLIENT", "CONFIG", "COMMAND", "KEYS", "SCAN", "RANDOMKEY", "WAIT", "LASTSAVE", "ROLE",
    ]
}
