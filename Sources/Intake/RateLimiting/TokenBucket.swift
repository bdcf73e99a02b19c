/// A token bucket: holds up to `burst` tokens, refills at `ratePerSecond`, and each request
/// takes one.
struct TokenBucket: Sendable {
    private(set) var tokens: Double
    private(set) var updatedAt: Double

    init(burst: Int, now: Double) {
        tokens = Double(burst)
        updatedAt = now
    }

    /// Takes a token; when none is left, returns how many whole seconds until one is.
    mutating func take(now: Double, ratePerSecond: Double, burst: Int) -> Int? {
        tokens = min(Double(burst), tokens + max(0, now - updatedAt) * ratePerSecond)
        updatedAt = now
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int(((1 - tokens) / ratePerSecond).rounded(.up)))
    }

    /// Whether the bucket has refilled completely, so forgetting it changes nothing.
    func isFull(now: Double, ratePerSecond: Double, burst: Int) -> Bool {
        tokens + (now - updatedAt) * ratePerSecond >= Double(burst)
    }
}
