/// How a charge ended (or is waiting), as reported by the charge job, a callback or an expiry.
public enum PaymentOutcome: Sendable, Equatable {
    case paid(paymentID: String)
    /// Declined, or the provider stayed unreachable through every attempt.
    case failed(reason: String)
    /// The payment window passed without a final answer.
    case expired
    /// The provider answered `pending`; a callback or the expiry will settle it.
    case awaitingCallback(paymentID: String?)
}

extension PaymentOutcome {
    /// False while the provider's callback (or the expiry) is awaited.
    public var isFinal: Bool {
        if case .awaitingCallback = self { return false }
        return true
    }

    /// The order's status once this outcome is applied.
    public var finalStatus: OrderStatus {
        switch self {
        case .paid: .paid
        case .failed: .failed
        case .expired: .expired
        case .awaitingCallback: .pendingPayment
        }
    }

    public var paymentID: String? {
        switch self {
        case .paid(let paymentID): paymentID
        case .awaitingCallback(let paymentID): paymentID
        default: nil
        }
    }

    public var failureReason: String? {
        switch self {
        case .failed(let reason): reason
        case .expired: "payment window passed"
        default: nil
        }
    }
}
