import Postgres
import ShopDomain

/// `POST /v1/orders/{id}/refund` (docs/payments.md, "Refunds"): a `paid` order is refunded
/// (`refund_pending`, then `refunded` when the provider confirms) and its unit released like a failed
/// payment's: offered to the next waitlisted entrant of a drawn draw, or back on sale in an open-run
/// still open. Idempotent: a repeat finds the order already refunding and changes nothing.
public enum OperatorRefund {
    public enum Result: Sendable, Equatable {
        /// The order is refunding (now or before). The follow-up is empty for a repeat.
        case refunding(Order, followUp: SettlementEffect, refundQueued: Bool)
        /// Only a paid order can be refunded.
        case notPaid(OrderStatus)
        case notFound
    }

    public static func refund(
        _ connection: PostgresConnection, orderID: Int, operatorID: Int, paymentWindowSeconds: Int
    ) throws -> Result {
        try connection.transaction { transaction in
            // The order's row, then its drop's: the order settlement's lock order.
            let locked = try transaction.query(
                "SELECT status, drop_id FROM orders WHERE id = $1 FOR UPDATE", [.int(orderID)])
            guard let row = locked.first else { return .notFound }
            guard let status = OrderStatus(rawValue: try row.string(0)) else {
                throw PostgresError(code: .decoding, message: "order \(orderID) has an unknown status")
            }
            let dropID = try row.int(1)
            func current() throws -> Order {
                guard let order = try OrderStore.order(transaction, id: orderID) else {
                    throw PostgresError(code: .decoding, message: "order \(orderID) vanished")
                }
                return order
            }
            switch status {
            case .refundPending, .refunded:
                return .refunding(try current(), followUp: .unchanged(orderID), refundQueued: false)
            case .paid:
                break
            default:
                return .notPaid(status)
            }
            let drop = try transaction.query(
                "SELECT kind, status FROM drops WHERE id = $1 FOR UPDATE", [.int(dropID)])[0]
            let kind = DropKind(rawValue: try drop.string(0))
            let dropStatus = DropStatus(rawValue: try drop.string(1))
            // A free order has nothing to pay back.
            try transaction.query(
                """
                UPDATE orders SET status = CASE WHEN amount_cents = 0 THEN 'refunded' ELSE 'refund_pending' END,
                                  updated_at = now()
                WHERE id = $1
                """, [.int(orderID)])
            try transaction.query(
                "UPDATE drops SET sold = sold - 1, available = available + 1, updated_at = now() WHERE id = $1",
                [.int(dropID)])
            let refunds = try RefundStore.create(transaction, orderIDs: [orderID], reason: "operator", requestedBy: operatorID)
            var promoted: [Int] = []
            var returned = 0
            if kind?.isDrawn == true, dropStatus == .drawn {
                promoted = try OrderSettlementStore.promoteWaitlisted(
                    transaction, dropID: dropID, count: 1, paymentWindowSeconds: paymentWindowSeconds)
                try OrderSettlementStore.settleIfDone(transaction, dropID: dropID)
            } else if kind == .openRun, dropStatus == .open {
                returned = 1
            }
            let effect = SettlementEffect(
                orderID: orderID, applied: true, dropID: dropID, dropKind: kind, promotedOrders: promoted,
                unitsReturnedToSale: returned, expiresAtMilliseconds: nil, refundOrderIDs: refunds)
            return .refunding(try current(), followUp: effect, refundQueued: !refunds.isEmpty)
        }
    }
}
