/// SPEC §4: `pending_payment` → `paid` | `failed` | `expired`. Final states never move.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pendingPayment = "pending_payment"
    case paid
    case failed
    case expired

    public var isFinal: Bool { self != .pendingPayment }

    /// A unit is held by a pending order, sold by a paid one, and released by the other two.
    public var holdsUnit: Bool { self == .pendingPayment }

    public func canMove(to next: OrderStatus) -> Bool {
        self == .pendingPayment && next != .pendingPayment
    }
}
