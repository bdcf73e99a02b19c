/// The callback a pending charge owes, sent once the callback delay has passed.
struct PendingCallback: Sendable {
    let idempotencyKey: String
    let orderID: Int
    let paymentID: String
    /// `charge.succeeded` when true, `charge.failed` otherwise.
    let succeeds: Bool
    /// Deliver it twice, with the same `webhook-id`.
    let duplicate: Bool
    /// Sent after the late callback delay (a late success).
    var late = false
    let epoch: ChargeLedger.Epoch

    /// The callback body (docs/payments.md, "Callbacks"): `{"type","order_id","payment_id"}`.
    var body: Body {
        Body(type: succeeds ? "charge.succeeded" : "charge.failed", orderID: orderID, paymentID: paymentID)
    }

    struct Body: Encodable {
        let type: String
        let orderID: Int
        let paymentID: String

        enum CodingKeys: String, CodingKey {
            case type
            case orderID = "order_id"
            case paymentID = "payment_id"
        }
    }
}
