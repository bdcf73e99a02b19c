import Postgres
import ShopDomain

/// Applies payment outcomes: order status, stock figures under the drop's row lock, waitlist
/// promotion, settling the drop. Each settlement is guarded by the order's current state, so
/// applying one twice (a redelivered job, a repeated callback) changes nothing the second time.
///
/// A batch is applied with a fixed number of statements whatever its size: orders are updated
/// set-wise, and each drop's counters once with the batch's totals. (Updating one hot drop row
/// once per order would grow a chain of row versions that every later update must walk.)
public enum OrderSettlementStore {
    public static func apply(
        _ connection: PostgresConnection, _ settlement: Settlement, paymentWindowSeconds: Int
    ) throws -> SettlementEffect {
        try apply(connection, [settlement], paymentWindowSeconds: paymentWindowSeconds)[0]
    }

    public static func apply(
        _ connection: PostgresConnection, _ settlements: [Settlement], paymentWindowSeconds: Int
    ) throws -> [SettlementEffect] {
        var effects = settlements.map { SettlementEffect.unchanged($0.orderID) }
        // Each order is settled by the first of its settlements in the batch.
        var firstIndex: [Int: Int] = [:]
        for (index, settlement) in settlements.enumerated() where firstIndex[settlement.orderID] == nil {
            firstIndex[settlement.orderID] = index
        }
        let unique = firstIndex.values.sorted()

        // Final outcomes: paid, failed, expired.
        let finals = unique.filter { settlements[$0].outcome.isFinal }
        var deltas: [Int: (paid: Int, released: Int, releasingIndices: [Int])] = [:]
        if !finals.isEmpty {
            let rows = try connection.query(
                """
                UPDATE orders o
                SET status = i.status, charge_state = \(ChargeState.done.sql), payment_id = COALESCE(i.payment_id, o.payment_id),
                    failure = i.failure, updated_at = now()
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS i(order_id, status, payment_id, failure)
                WHERE o.id = i.order_id AND o.status = 'pending_payment'
                RETURNING o.id, o.drop_id, o.status
                """,
                [
                    .intArray(finals.map { settlements[$0].orderID }),
                    .textArray(finals.map { settlements[$0].outcome.finalStatus.rawValue }),
                    .optionalTextArray(finals.map { settlements[$0].outcome.paymentID }),
                    .optionalTextArray(finals.map { settlements[$0].outcome.failureReason }),
                ])
            for row in rows {
                let index = firstIndex[try row.int(0)]!
                let dropID = try row.int(1)
                effects[index] = SettlementEffect(
                    orderID: settlements[index].orderID, applied: true, dropID: dropID, dropKind: nil, promotedOrders: [],
                    unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
                var delta = deltas[dropID] ?? (0, 0, [])
                if try row.string(2) == OrderStatus.paid.rawValue {
                    delta.paid += 1
                } else {
                    delta.released += 1
                    delta.releasingIndices.append(index)
                }
                deltas[dropID] = delta
            }
        }

        // Stock figures, once per drop, in id order (concurrent batches lock drops alike).
        for dropID in deltas.keys.sorted() {
            let delta = deltas[dropID]!
            let kindText = try connection.query(
                """
                UPDATE drops SET held = held - $2 - $3, sold = sold + $2, available = available + $3, updated_at = now()
                WHERE id = $1 RETURNING kind
                """, [.int(dropID), .int(delta.paid), .int(delta.released)])[0].string(0)
            let kind = DropKind(rawValue: kindText)
            var promoted: [Int] = []
            if delta.released > 0, kind?.isDrawn == true {
                promoted = try promoteWaitlisted(
                    connection, dropID: dropID, count: delta.released, paymentWindowSeconds: paymentWindowSeconds)
            }
            for index in delta.releasingIndices {
                let isFirst = index == delta.releasingIndices[0]
                effects[index] = SettlementEffect(
                    orderID: settlements[index].orderID, applied: true, dropID: dropID, dropKind: kind,
                    // Promotions are reported once, with the first release of the drop.
                    promotedOrders: isFirst ? promoted : [],
                    unitsReturnedToSale: kind == .openRun ? 1 : 0, expiresAtMilliseconds: nil)
            }
            for (index, effect) in effects.enumerated() where effect.applied && effect.dropID == dropID && effect.dropKind == nil {
                effects[index] = SettlementEffect(
                    orderID: effect.orderID, applied: true, dropID: dropID, dropKind: kind, promotedOrders: [],
                    unitsReturnedToSale: 0, expiresAtMilliseconds: nil)
            }
            try settleIfDone(connection, dropID: dropID)
        }

        // Pending at the provider: wait for the callback or the expiry.
        let waiting = unique.filter { !settlements[$0].outcome.isFinal }
        if !waiting.isEmpty {
            let rows = try connection.query(
                """
                UPDATE orders o
                SET charge_state = \(ChargeState.awaitingCallback.sql), payment_id = COALESCE(i.payment_id, o.payment_id), updated_at = now()
                FROM unnest($1::bigint[], $2::text[]) AS i(order_id, payment_id)
                WHERE o.id = i.order_id AND o.status = 'pending_payment' AND o.charge_state = \(ChargeState.queued.sql)
                RETURNING o.id, o.drop_id, (extract(epoch FROM o.expires_at) * 1000)::bigint
                """,
                [
                    .intArray(waiting.map { settlements[$0].orderID }),
                    .optionalTextArray(waiting.map { settlements[$0].outcome.paymentID }),
                ])
            for row in rows {
                let index = firstIndex[try row.int(0)]!
                effects[index] = SettlementEffect(
                    orderID: settlements[index].orderID, applied: true, dropID: try row.int(1), dropKind: nil,
                    promotedOrders: [], unitsReturnedToSale: 0, expiresAtMilliseconds: try row.int(2))
            }
        }

        // Late successes: money taken for an order that no longer holds its unit (a callback after
        // the payment window, a charge in flight at expiry or cancellation, a timed-out attempt
        // that did charge). The payment is recorded on the order and refunded; a repeat of the
        // same success finds the refund there and adds nothing.
        let successes = settlements.indices.filter { if case .paid = settlements[$0].outcome { true } else { false } }
        if !successes.isEmpty {
            let rows = try connection.query(
                """
                WITH late AS (
                    SELECT DISTINCT ON (o.id) o.id, i.payment_id
                    FROM unnest($1::bigint[], $2::text[]) AS i(order_id, payment_id)
                    JOIN orders o ON o.id = i.order_id
                    WHERE o.status IN ('expired', 'failed', 'cancelled') AND o.amount_cents > 0
                    ORDER BY o.id
                ), noted AS (
                    UPDATE orders o SET payment_id = late.payment_id, updated_at = now()
                    FROM late WHERE o.id = late.id AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.id)
                    RETURNING o.id, o.webhook_id, o.amount_cents, o.currency, o.payment_id
                )
                INSERT INTO refunds (order_id, webhook_id, payment_id, amount_cents, currency, reason)
                SELECT id, 'rf_' || webhook_id, payment_id, amount_cents, currency, 'late_success' FROM noted
                ON CONFLICT (order_id) DO NOTHING
                RETURNING order_id
                """,
                [
                    .intArray(successes.map { settlements[$0].orderID }),
                    .optionalTextArray(successes.map { settlements[$0].outcome.paymentID }),
                ])
            for row in rows {
                let orderID = try row.int(0)
                guard let index = successes.first(where: { settlements[$0].orderID == orderID }) else { continue }
                effects[index].refundOrderIDs.append(orderID)
                effects[index].lateSuccess = true
            }
        }

        // Every provider answer, for the audit trail (one successful charge per order).
        let attempts = settlements.indices.filter { settlements[$0].attempt != nil }
        if !attempts.isEmpty {
            try connection.query(
                """
                INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, payment_id, detail, latency_ms)
                SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[])
                """,
                [
                    .intArray(attempts.map { settlements[$0].orderID }),
                    .intArray(attempts.map { settlements[$0].attempt! }),
                    .textArray(attempts.map { settlements[$0].outcome.attemptOutcome }),
                    .optionalIntArray(attempts.map { settlements[$0].httpStatus }),
                    .optionalTextArray(attempts.map { settlements[$0].outcome.paymentID }),
                    .optionalTextArray(attempts.map { settlements[$0].outcome.failureReason }),
                    .optionalIntArray(attempts.map { settlements[$0].latencyMilliseconds }),
                ])
        }
        return effects
    }

    /// Offers released units of a draw/raffle to the best-ranked entrants not offered one yet.
    static func promoteWaitlisted(
        _ connection: PostgresConnection, dropID: Int, count: Int, paymentWindowSeconds: Int
    ) throws -> [Int] {
        let next = try connection.query(
            """
            SELECT user_id FROM drop_rankings WHERE drop_id = $1 AND order_id IS NULL
            ORDER BY position LIMIT $2 FOR UPDATE
            """, [.int(dropID), .int(count)]
        ).map { try $0.int(0) }
        guard !next.isEmpty else { return [] }
        let orders = try DrawStore.createOrders(connection, dropID: dropID, users: next, paymentWindowSeconds: paymentWindowSeconds)
        try DrawStore.takeUnits(connection, dropID: dropID, for: orders)
        return orders.toCharge
    }

    /// Marks a drop settled when nothing is pending and every unit is sold or has nobody left to
    /// be offered to.
    static func settleIfDone(_ connection: PostgresConnection, dropID: Int) throws {
        try connection.query(
            """
            UPDATE drops d SET status = 'settled', updated_at = now()
            WHERE d.id = $1 AND d.held = 0 AND (
                (d.kind <> 'open_run' AND d.status = 'drawn' AND (d.sold = d.stock OR NOT EXISTS (
                    SELECT 1 FROM drop_rankings r WHERE r.drop_id = d.id AND r.order_id IS NULL)))
                OR (d.kind = 'open_run' AND (d.status = 'closed' OR (d.status = 'open' AND d.sold = d.stock)))
            )
            """, [.int(dropID)])
    }
}

extension PaymentOutcome {
    /// How `charge_attempts` records the provider's answer.
    var attemptOutcome: String {
        switch self {
        case .paid: "succeeded"
        case .failed, .expired: "failed"
        case .awaitingCallback: "pending"
        }
    }
}
