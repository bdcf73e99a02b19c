/// Draws the outcome and latency of a charge attempt from the configured rates.
///
/// Each attempt gets its own generator, seeded from the provider's seed, the Idempotency-Key and
/// the attempt number, so the outcome of a key does not depend on what else is in flight: one
/// seed replays a run exactly however requests interleave. The attempt number moves on after an
/// error, so a retry of a failed attempt draws afresh.
struct OutcomePolicy: Sendable {
    let seed: UInt64
    let declineRate: Double
    let errorRate: Double
    let timeoutRate: Double
    let pendingRate: Double
    let pendingSuccessRate: Double
    let duplicateCallbackRate: Double
    let lateSuccessRate: Double
    let latencyMilliseconds: Int
    let latencyJitterMilliseconds: Int

    init(_ configuration: MockPaymentsConfiguration) {
        seed = configuration.seed
        declineRate = configuration.declineRate
        errorRate = configuration.errorRate
        timeoutRate = configuration.timeoutRate
        pendingRate = configuration.pendingRate
        pendingSuccessRate = configuration.pendingSuccessRate
        duplicateCallbackRate = configuration.duplicateCallbackRate
        lateSuccessRate = configuration.lateSuccessRate
        latencyMilliseconds = configuration.latencyMilliseconds
        latencyJitterMilliseconds = configuration.latencyJitterMilliseconds
    }

    func decide(idempotencyKey: String, attempt: Int) -> ChargeDecision {
        var random = SplitMix64(seed: SplitMix64.mix(seed &+ SplitMix64.mix(Self.fnv1a(idempotencyKey) &+ UInt64(attempt))))
        // Every draw is made whatever the outcome, so each one always comes from the same place
        // in the stream.
        let outcomeDraw = random.nextFraction()
        let errorStatusDraw = random.nextFraction()
        let retryAfterDraw = random.nextFraction()
        let latencyDraw = random.nextFraction()
        let pendingSuccessDraw = random.nextFraction()
        let duplicateDraw = random.nextFraction()
        // Drawn last, so the draws before it (and a seed's outcomes without late successes) stay put.
        let lateDraw = random.nextFraction()

        let outcome: ChargeDecision.Outcome
        // Consecutive intervals of [0, 1): declined, error, timeout, pending, then succeeded.
        // A rate of 1 takes the whole interval; a rate of 0 an empty one.
        switch outcomeDraw {
        case ..<declineRate:
            outcome = .declined
        case ..<(declineRate + errorRate):
            outcome = .error(status: errorStatusDraw < 0.5 ? 500 : 503, retryAfter: retryAfterDraw < 0.5)
        case ..<(declineRate + errorRate + timeoutRate):
            outcome = .timeout
        case ..<(declineRate + errorRate + timeoutRate + pendingRate):
            let late = lateDraw < lateSuccessRate
            outcome = .pending(
                succeeds: late || pendingSuccessDraw < pendingSuccessRate, duplicateCallback: duplicateDraw < duplicateCallbackRate,
                late: late)
        default:
            outcome = .succeeded
        }
        let jitter = (latencyDraw * 2 - 1) * Double(latencyJitterMilliseconds)
        let latency = max(0, latencyMilliseconds + Int(jitter.rounded()))
        return ChargeDecision(outcome: outcome, latencyMilliseconds: latency)
    }

    /// FNV-1a, 64-bit: a hash of the key that is the same in every process (unlike `Hasher`).
    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
