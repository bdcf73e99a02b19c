/// What the provider does with one new charge attempt, decided before it waits.
struct ChargeDecision: Sendable, Equatable {
    enum Outcome: Sendable, Equatable {
        case succeeded
        case declined
        /// A 5xx answer; nothing is charged, so a retry with the same key is a new attempt.
        case error(status: Int, retryAfter: Bool)
        /// Charged and recorded as succeeded, but the answer is held back past the client's timeout.
        case timeout
        /// Answered `pending`; a callback later reports the result.
        /// `late`: it succeeds, but its callback comes only after the late callback delay.
        case pending(succeeds: Bool, duplicateCallback: Bool, late: Bool = false)
    }

    var outcome: Outcome
    /// How long the answer waits.
    var latencyMilliseconds: Int
}
