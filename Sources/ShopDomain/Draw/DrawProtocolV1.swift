import Crypto

/// Draw protocol v1 (SPEC §5): commitment, canonical entries digest, and the ranking.
public enum DrawProtocolV1 {
    public static let identifier = "fastest-shop/draw/v1"

    /// `hex(SHA-256(seed))`, published when the drop is created.
    public static func commitment(seed: [UInt8]) -> String {
        SHA256.hash(data: seed).lowercaseHex
    }

    /// A fresh 32-byte seed from the operating system's CSPRNG.
    public static func makeSeed() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex, as every hex string of the protocol is.
    public var lowercaseHex: String {
        var text = ""
        for byte in self {
            text.append(hexDigit(byte >> 4))
            text.append(hexDigit(byte & 0x0F))
        }
        return text
    }
}

private func hexDigit(_ value: UInt8) -> Character {
    Character(Unicode.Scalar(value < 10 ? 48 + value : 87 + value))
}
