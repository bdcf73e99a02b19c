import Metrics

/// The worker's payment figures: each answer of the provider to a charge, by outcome, and how
/// long it took (the same time `charge_attempts.latency_ms` keeps), through the process's
/// metrics system (the worker's or scheduler's `/metrics`, `metrics_port`).
struct ChargeMetrics: Sendable {
    /// How the provider answered one charge request, named as `charge_attempts.outcome` and the
    /// console's Payments page name it.
    enum Outcome: String, CaseIterable, Sendable {
        case succeeded
        /// Declined.
        case failed
        /// Accepted; the provider's callback settles it.
        case pending
        /// 408, 429, 5xx, a timeout or no connection: retried, or on the last attempt failed.
        case retryable
    }

    private let outcomes: [Outcome: Counter]
    private let latency: Timer

    /// Call after the metrics system is bootstrapped (metrics made earlier report nowhere).
    init() {
        // Every outcome made up front: a dashboard sees a 0, not a missing series.
        outcomes = Dictionary(
            uniqueKeysWithValues: Outcome.allCases.map {
                ($0, Counter(label: "fastest_charges_total", dimensions: [("outcome", $0.rawValue)]))
            })
        latency = Timer(label: "fastest_payment_provider_latency_seconds", preferredDisplayUnit: .seconds)
    }

    func answered(_ outcome: Outcome, milliseconds: Int) {
        outcomes[outcome]?.increment()
        latency.recordMilliseconds(milliseconds)
    }
}

extension ChargeMetrics.Outcome {
    init(_ answer: PaymentClient.Answer) {
        switch answer {
        case .succeeded: self = .succeeded
        case .declined: self = .failed
        case .pending: self = .pending
        case .retryable: self = .retryable
        }
    }
}
