/// Identifiers that must never repeat, even across resets and processes: drawn from the system
/// generator, not the seeded one.
enum RandomIdentifier {
    /// `prefix` and 24 lower-case hex digits (96 random bits).
    static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let high = UInt64.random(in: 0..<(1 << 32), using: &generator)
        let low = generator.next()
        return prefix + hex(high, digits: 8) + hex(low, digits: 16)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
