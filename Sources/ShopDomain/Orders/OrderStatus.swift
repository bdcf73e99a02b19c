/// docs/payments.md, "Order states": `pending_payment` → `paid` | `failed` | `expired` | `cancelled`;
/// `paid` → `refund_pending` → `refunded`. Other states never move.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pendingPayment = "pending_payment"
    case paid
    case failed
    case expired
    /// Its drop was cancelled before the order was paid.
    case cancelled
    /// Paid, then refunded by an operator or a cancelled drop: the unit is released, the money
    /// is on its way back.
    case refundPending = "refund_pending"
    case refunded

    public var isFinal: Bool { self != .pendingPayment && self != .paid && self != .refundPending }

    /// Live orders hold or own a unit: at most one per customer per drop.
    public var isLive: Bool { self == .pendingPayment || self == .paid }

    public func canMove(to next: OrderStatus) -> Bool {
        switch (self, next) {
        case (.pendingPayment, .paid), (.pendingPayment, .failed), (.pendingPayment, .expired), (.pendingPayment, .cancelled),
            (.paid, .refundPending), (.refundPending, .refunded):
            return true
        default:
            return false
        }
    }
}
