import Crypto

/// A source of 64-bit words for ``uniform(_:)``; tests script one to reach the rejection edges.
protocol DrawWordSource {
    mutating func nextWord() -> UInt64
}

extension DrawWordSource {
    /// docs/contract.md, "Draw protocol v1", step 4: a value in `0..<n`, every value equally likely.
    /// Words at or above 2^64 − (2^64 mod n), the largest multiple of `n` up to 2^64, are rejected:
    /// `x mod n` over that incomplete last run would favour small values. Always consumes at least one
    /// word.
    mutating func uniform(_ n: UInt64) -> UInt64 {
        precondition(n > 0, "uniform(0) has no value to return")
        // 2^64 mod n without 65-bit arithmetic: (2^64 − n) mod n, with 2^64 − n wrapping into 64 bits.
        let excess = (0 &- n) % n
        // x < 2^64 − excess, written so that excess = 0 (n a power of two, or 1) accepts every word.
        while true {
            let word = nextWord()
            if word <= UInt64.max - excess { return word % n }
        }
    }
}

/// docs/contract.md, "Draw protocol v1", steps 3 and 4:
/// `R = HMAC-SHA256(seed, "fastest-shop/draw/v1|<drop_id>|<entries_digest>|<beacon>")`, then block i =
/// SHA-256(R ‖ UInt64 big-endian(i)) read as four big-endian words.
struct DrawRandomWords: DrawWordSource {
    /// R followed by the 8-byte block counter, rewritten for every block.
    private var blockInput: [UInt8]
    private var nextBlockIndex: UInt64 = 0
    private var block: SHA256.Digest
    private var wordIndex = 0

    init(seed: [UInt8], dropID: Int, entriesDigest: String, beacon: String) {
        let message = "\(DrawProtocolV1.identifier)|\(dropID)|\(entriesDigest)|\(beacon)"
        let r = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: seed))
        blockInput = Array(r) + [UInt8](repeating: 0, count: 8)
        block = Self.hashBlock(&blockInput, index: nextBlockIndex)
        nextBlockIndex += 1
    }

    mutating func nextWord() -> UInt64 {
        if wordIndex == 4 {
            block = Self.hashBlock(&blockInput, index: nextBlockIndex)
            nextBlockIndex += 1
            wordIndex = 0
        }
        let offset = wordIndex * 8
        wordIndex += 1
        return block.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    private static func hashBlock(_ input: inout [UInt8], index: UInt64) -> SHA256.Digest {
        let counterStart = input.count - 8
        withUnsafeBytes(of: index.bigEndian) { input.replaceSubrange(counterStart..., with: $0) }
        return SHA256.hash(data: input)
    }
}
