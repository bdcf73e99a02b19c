/// Forward Fisher–Yates over `0..<count` (docs/contract.md, "Draw protocol v1", step 5) without the
/// array: a position holds its own index until a swap displaces it, and only displaced positions are
/// stored. Memory grows with the steps taken, not with `count`.
struct SparseShuffle {
    let count: Int
    private var position = 0
    private var displaced: [Int: Int] = [:]

    init(count: Int, expectedSteps: Int) {
        self.count = count
        displaced.reserveCapacity(min(count, expectedSteps))
    }

    /// Swaps position i with `i + uniform(count − i)` and returns the value now at i, or `nil` once
    /// every position has been visited.
    mutating func next(using words: inout some DrawWordSource) -> Int? {
        guard position < count else { return nil }
        let i = position
        position += 1
        let j = i + Int(words.uniform(UInt64(count - i)))
        // Position i is never read again, so its entry is dropped rather than updated.
        let valueAtI = displaced.removeValue(forKey: i) ?? i
        guard j != i else { return valueAtI }
        return displaced.updateValue(valueAtI, forKey: j) ?? j
    }
}
