/// What applying a settlement changed, and what must happen next outside PostgreSQL.
public struct SettlementEffect: Sendable, Equatable {
    public let orderID: Int
    /// False when the order was already final (a final state never moves backwards) or was not in
    /// the state the outcome applies to: nothing changed.
    public let applied: Bool
    public let dropID: Int?
    public let dropKind: DropKind?
    /// Orders created for the next waitlisted entrants of a draw/raffle; each needs a charge job.
    public let promotedOrders: [Int]
    /// Open-run units put back on sale; the admission gate must get them back.
    public let unitsReturnedToSale: Int
    /// When an order now awaits a callback: when it expires (Unix ms), for its expiry job.
    public let expiresAtMilliseconds: Int?
    /// Orders whose refund was created now and needs its `order.refund` job.
    public var refundOrderIDs: [Int]
    /// True when this was a success for an order already expired, failed or cancelled: the
    /// payment is recorded and refunded (counted as `payments_late_success_total`).
    public var lateSuccess: Bool

    public init(
        orderID: Int, applied: Bool, dropID: Int?, dropKind: DropKind?, promotedOrders: [Int], unitsReturnedToSale: Int,
        expiresAtMilliseconds: Int?, refundOrderIDs: [Int] = [], lateSuccess: Bool = false
    ) {
        self.orderID = orderID
        self.applied = applied
        self.dropID = dropID
        self.dropKind = dropKind
        self.promotedOrders = promotedOrders
        self.unitsReturnedToSale = unitsReturnedToSale
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.refundOrderIDs = refundOrderIDs
        self.lateSuccess = lateSuccess
    }

    /// Nothing changed for `orderID`.
    public static func unchanged(_ orderID: Int) -> SettlementEffect {
        SettlementEffect(
            orderID: orderID, applied: false, dropID: nil, dropKind: nil, promotedOrders: [],
            unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
    }
}
