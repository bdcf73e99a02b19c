/// One answered charge, as `GET /v1/charges?order_id=` and `GET /v1/charges/{key}` list it.
public struct ChargeRecord: Sendable, Equatable, Codable {
    /// Where the charge stands now.
    public enum Status: String, Sendable, Codable {
        case succeeded, declined, pending
        /// A pending charge whose callback reported `charge.failed`.
        case failed
    }

    public let idempotencyKey: String
    public let paymentID: String
    public let orderID: Int
    public let dropID: Int
    public let userID: Int
    public let amountCents: Int
    public let currency: String
    /// What the request was answered; repeats of the key are answered the same.
    public let answer: ChargeAnswer.Status
    /// A pending charge moves on to succeeded or failed when its callback is sent.
    public internal(set) var status: Status
    /// The answer was held back past the client's timeout (the `timeout` outcome): charged, but
    /// the client never heard.
    public let heldBack: Bool
    /// Successful charges made under this key; anything above 1 is a double charge.
    public internal(set) var succeededCharges: Int

    enum CodingKeys: String, CodingKey {
        case idempotencyKey = "idempotency_key"
        case paymentID = "payment_id"
        case orderID = "order_id"
        case dropID = "drop_id"
        case userID = "user_id"
        case amountCents = "amount_cents"
        case currency, answer, status
        case heldBack = "held_back"
        case succeededCharges = "succeeded_charges"
    }
}
