import Postgres
import ShopDomain

/// Inbound payment callbacks (docs/payments.md, "Callbacks"), recorded by `webhook-id` in the same
/// transaction as their effect: a repeated delivery is acknowledged and ignored, and a callback is never
/// recorded without being applied (or applied without being recorded).
public enum PaymentEventStore {
    public enum Kind: String, Sendable {
        case succeeded = "charge.succeeded"
        case failed = "charge.failed"
        case refundSucceeded = "refund.succeeded"
        case refundFailed = "refund.failed"

        public var isRefund: Bool { self == .refundSucceeded || self == .refundFailed }
    }

    public enum Outcome: Sendable, Equatable {
        case applied(SettlementEffect)
        /// This `webhook-id` was seen before.
        case duplicate
        case unknownOrder
    }

    public static func record(
        _ connection: PostgresConnection, webhookID: String, kind: Kind, orderID: Int, paymentID: String?,
        paymentWindowSeconds: Int
    ) throws -> Outcome {
        try connection.transaction { transaction in
            let order = try transaction.query("SELECT payment_id FROM orders WHERE id = $1 FOR UPDATE", [.int(orderID)])
            guard let row = order.first else { return .unknownOrder }
            let storedPaymentID = try row.optionalString(0)
            let inserted = try transaction.query(
                """
                INSERT INTO payment_events (webhook_id, order_id, type, payment_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (webhook_id) DO NOTHING
                """, [.text(webhookID), .int(orderID), .text(kind.rawValue), .text(paymentID)])
            guard inserted.affectedRows == 1 else { return .duplicate }
            if kind.isRefund {
                // `payment_id` carries the refund id here.
                try RefundStore.complete(
                    transaction, orderID: orderID, succeeded: kind == .refundSucceeded, refundID: paymentID,
                    failure: kind == .refundFailed ? "the provider reported the refund failed" : nil)
                return .applied(.unchanged(orderID))
            }
            let outcome: PaymentOutcome =
                switch kind {
                // A callback without a payment id never overwrites the one the charge's answer stored;
                // only with neither does the order get a placeholder (a paid order needs one).
                case .succeeded: .paid(paymentID: paymentID ?? storedPaymentID ?? "unreported")
                case .failed, .refundSucceeded, .refundFailed: .failed(reason: "the provider reported the charge failed")
                }
            let effect = try OrderSettlementStore.apply(
                transaction, Settlement(orderID: orderID, outcome: outcome), paymentWindowSeconds: paymentWindowSeconds)
            return .applied(effect)
        }
    }
}
