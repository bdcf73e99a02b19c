import Foundation

public struct Order: Sendable, Equatable {
    public var id: Int
    public var dropID: Int
    public var userID: Int
    public var status: OrderStatus
    public var amountCents: Int
    public var currency: String
    /// Stable for every retry of this order's charge: `webhook-id` and `Idempotency-Key`.
    public var webhookID: String
    public var paymentID: String?
    public var expiresAt: Date
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int, dropID: Int, userID: Int, status: OrderStatus, amountCents: Int, currency: String,
        webhookID: String, paymentID: String?, expiresAt: Date, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.dropID = dropID
        self.userID = userID
        self.status = status
        self.amountCents = amountCents
        self.currency = currency
        self.webhookID = webhookID
        self.paymentID = paymentID
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
