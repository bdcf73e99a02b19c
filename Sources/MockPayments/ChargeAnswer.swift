/// The body of a 2xx answer to a charge: `{"status", "payment_id"}`. A repeated Idempotency-Key
/// gets the same answer again.
public struct ChargeAnswer: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case succeeded, declined, pending
    }

    public let status: Status
    public let paymentID: String

    public init(status: Status, paymentID: String) {
        self.status = status
        self.paymentID = paymentID
    }

    enum CodingKeys: String, CodingKey {
        case status
        case paymentID = "payment_id"
    }
}
