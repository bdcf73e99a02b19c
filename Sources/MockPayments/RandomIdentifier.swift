import ShopDomain
import TextEncodings

/// Identifiers that must never repeat, even across resets and processes: drawn from the system
/// generator, not the seeded one.
enum RandomIdentifier {
    /// `prefix` and 24 lower-case hex digits (96 random bits).
    static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }
}
