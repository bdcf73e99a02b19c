import Foundation

/// The body of a `charge.requested` webhook (docs/payments.md, "Charges"). Two requests under one
/// Idempotency-Key must be equal; a different order or amount under a used key is a client bug.
struct ChargeRequest: Sendable, Equatable {
    let orderID: Int
    let dropID: Int
    let userID: Int
    let amountCents: Int
    let currency: String

    /// Reads the JSON body strictly: ids and amount are integers, the type is `charge.requested`.
    init(jsonBytes: [UInt8]) throws(MockPaymentsProblem) {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(jsonBytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidCharge("\(key.stringValue) is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.last?.stringValue ?? "the body"
            throw .invalidCharge("\(field) has the wrong type")
        } catch {
            throw .invalidCharge("the body is not JSON")
        }
        guard body.type == "charge.requested" else { throw .invalidCharge("type must be charge.requested") }
        guard body.amountCents > 0 else { throw .invalidCharge("amount_cents must be positive") }
        guard body.currency.count == 3, body.currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw .invalidCharge("currency must be three upper-case letters")
        }
        orderID = body.orderID
        dropID = body.dropID
        userID = body.userID
        amountCents = body.amountCents
        currency = body.currency
    }

    private struct Body: Decodable {
        let type: String
        let orderID: Int
        let dropID: Int
        let userID: Int
        let amountCents: Int
        let currency: String

        enum CodingKeys: String, CodingKey {
            case type
            case orderID = "order_id"
            case dropID = "drop_id"
            case userID = "user_id"
            case amountCents = "amount_cents"
            case currency
        }
    }
}
