/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast generator whose output function mixes
/// any seed well, so nearby seeds (one per charge) still give unrelated streams.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func nextFraction() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// The SplitMix64 finaliser: a bijection that spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
