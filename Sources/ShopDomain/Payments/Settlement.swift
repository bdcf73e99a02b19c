/// One order's outcome to apply.
public struct Settlement: Sendable, Equatable {
    public let orderID: Int
    public let outcome: PaymentOutcome
    /// The charge attempt that produced it, logged in `charge_attempts` (nil for callbacks and expiries).
    public let attempt: Int?
    public let httpStatus: Int?
    /// How long the provider took to answer the attempt (`charge_attempts.latency_ms`).
    public let latencyMilliseconds: Int?

    public init(orderID: Int, outcome: PaymentOutcome, attempt: Int? = nil, httpStatus: Int? = nil, latencyMilliseconds: Int? = nil) {
        self.orderID = orderID
        self.outcome = outcome
        self.attempt = attempt
        self.httpStatus = httpStatus
        self.latencyMilliseconds = latencyMilliseconds
    }
}
