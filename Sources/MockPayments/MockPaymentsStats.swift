/// Counters since start (or the last reset), as `GET /v1/stats` serves them. The double-charge
/// counters are the proof tests and benchmarks look for: both must stay 0.
public struct MockPaymentsStats: Sendable, Equatable, Codable {
    /// Charge requests received, whatever became of them.
    public var requests = 0
    /// Successful charges: immediate successes, timeouts, and pending charges whose callback said
    /// `charge.succeeded`.
    public var chargesSucceeded = 0
    public var declined = 0
    /// 5xx answers (nothing charged).
    public var errors = 0
    /// Charges whose answer was held back past the client's timeout.
    public var timeouts = 0
    /// Charges answered `pending`.
    public var pending = 0
    /// Pending charges whose outcome is decided (their callback is going out): once this equals
    /// `pending`, no callback is still to come.
    public var pendingResolved = 0
    /// Callback deliveries the receiver acknowledged with 2xx (a duplicate delivery counts again).
    public var callbacksSent = 0
    /// Callback deliveries given up after the last attempt.
    public var callbacksFailed = 0
    /// Idempotency-Keys charged successfully more than once.
    public var doubleChargedKeys = 0
    /// Orders charged successfully more than once, under any keys.
    public var doubleChargedOrders = 0
    /// Requests refused with 401: a missing, malformed, stale or wrong signature.
    public var badSignatures = 0
    /// Requests refused with 400: no Idempotency-Key, or a body that is not a charge.
    public var invalidRequests = 0
    /// Repeated keys answered with the stored answer.
    public var replays = 0
    /// Repeated keys with a different charge, refused with 422.
    public var conflicts = 0
    /// Refunds paid, and their total in cents.
    public var refunds = 0
    public var refundedCents = 0
    /// Refunds refused: more than the order was charged, or the order again.
    public var refundsRefused = 0
    /// Requests to refund an order already refunded under another key (refused; must stay 0).
    public var doubleRefunds = 0
    /// Pending charges that succeeded late (their callback after the late delay).
    public var lateSuccesses = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case requests
        case chargesSucceeded = "charges_succeeded"
        case declined, errors, timeouts, pending
        case pendingResolved = "pending_resolved"
        case callbacksSent = "callbacks_sent"
        case callbacksFailed = "callbacks_failed"
        case doubleChargedKeys = "double_charged_keys"
        case doubleChargedOrders = "double_charged_orders"
        case badSignatures = "bad_signatures"
        case invalidRequests = "invalid_requests"
        case replays, conflicts, refunds
        case refundedCents = "refunded_cents"
        case refundsRefused = "refunds_refused"
        case doubleRefunds = "double_refunds"
        case lateSuccesses = "late_successes"
    }
}
