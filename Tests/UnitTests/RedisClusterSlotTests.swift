import Redis
import Testing

/// Hash slots as Redis Cluster computes them (CRC16/XMODEM mod 16384, hash tags), and the slot
/// each command is routed by.
@Suite struct RedisClusterSlotTests {
    @Test(arguments: [("123456789", 12739), ("foo", 12182), ("bar", 5061), ("hello", 866), ("somekey", 11058)])
    func slotsMatchTheClusterSpecification(key: String, slot: Int) {
        #expect(RedisClusterSlot.of(key) == slot)
    }

    @Test func hashTagsDecideTheSlot() {
        // Only the first {…} counts, and only when it is not empty.
        #expect(RedisClusterSlot.of("{bar}") == RedisClusterSlot.of("bar"))
        #expect(RedisClusterSlot.of("fs:gate:{bar}:buyers") == RedisClusterSlot.of("bar"))
        #expect(RedisClusterSlot.of("foo{bar}{zap}") == RedisClusterSlot.of("bar"))
        #expect(RedisClusterSlot.of("foo{{bar}}zap") == RedisClusterSlot.of("{bar"))
        #expect(RedisClusterSlot.of("foo{}{bar}") != RedisClusterSlot.of("bar"), "an empty tag hashes the whole key")
        #expect(RedisClusterSlot.of("foo{bar") != RedisClusterSlot.of("bar"), "an unclosed tag hashes the whole key")
        #expect(RedisClusterSlot.of("{drop:7}") == RedisClusterSlot.of("x{drop:7}:pending"))
    }

    @Test func commandsAreRoutedByTheirFirstKey() {
        #expect(RedisCommand("GET", "foo").route == .slot(12182))
        #expect(RedisCommand("hset", "{bar}:h", "f", "v").route == .slot(5061))
        #expect(RedisCommand("EVALSHA", "abc", 2, "{bar}:a", "{bar}:b", "argument").route == .slot(5061))
        #expect(RedisCommand("EVALSHA", "abc", 0, "argument").route == .anyNode)
        #expect(RedisCommand("PING").route == .anyNode)
        #expect(RedisCommand("TIME").route == .anyNode)
        #expect(RedisCommand("SCRIPT", "LOAD", "return 1").route == .allMasters)
        #expect(RedisCommand("FLUSHALL").route == .allMasters)
    }

    /// The slot function is checked by breaking it: a key differing only outside its tag keeps
    /// the slot, one differing inside the tag (almost always) does not.
    @Test func theTagIsAllThatMatters() {
        let moved = (0..<100).filter { RedisClusterSlot.of("k{drop:\($0)}") != RedisClusterSlot.of("k{drop:\($0 + 1000)}") }
        #expect(moved.count > 90)
        #expect((0..<100).allSatisfy { RedisClusterSlot.of("a\($0){drop:1}") == RedisClusterSlot.of("{drop:1}") })
    }
}
