import Crypto
import TextEncodings

/// SHA-256 over a document handed over in pieces (a stored audit bundle's chunks), for callers
/// outside the domain that must not import the hash library themselves.
public struct ContentHash: Sendable {
    private var hash = SHA256()

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        hash.update(data: bytes)
    }

    /// Lowercase hex.
    public func finalize() -> String {
        hash.finalize().lowercaseHex
    }
}
