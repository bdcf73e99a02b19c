import Synchronization

/// Job ids: a random per-process prefix and a counter. Unique across processes without a random
/// draw per job, which matters when enqueueing hundreds of thousands of jobs per second.
enum JobID {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        return String(UInt64.random(in: .min ... .max, using: &generator), radix: 36)
    }()
    private static let counter = Atomic<Int>(0)

    static func make() -> String {
        prefix + "-" + String(counter.wrappingAdd(1, ordering: .relaxed).newValue, radix: 36)
    }
}
