import CurlHTTP
import Foundation
import JobQueue
import Postgres
import Redis
import ShopDomain
import Storage
import Testing

/// `POST /v1/orders/{id}/refund` and `POST /v1/drops/{id}/cancel` (docs/payments.md, "Refunds"):
/// idempotent, recorded (who, when), and money follows units afterwards.
@Suite struct OperatorActionTests {
    static func refundJobs(_ server: IntakeTestServer) async throws -> [String] {
        try await server.redis.send(RedisCommand("LRANGE", JobQueue.keyPrefix(deployment: server.keyPrefix) + "{payments}:q", 0, -1)).requireArray()
            .compactMap {
                guard case .bulk(let bytes) = $0, let text = String(bytes: bytes, encoding: .utf8), text.contains("order.refund") else { return nil }
                return text
            }
    }

    @Test func aPaidOrderIsRefundedOnceAndItsUnitGoesBackOnSale() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let buyer = try await server.makeUser()
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 2, closesIn: nil)
            let paid = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyer.id, paid: true)
            let pending = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: operatorUser.id, paid: false)

            // Customers cannot; unknown orders and unpaid ones are refused without effect.
            #expect(try await server.call("POST", "/v1/orders/\(paid)/refund", token: buyer.token).status == 403)
            #expect(try await server.call("POST", "/v1/orders/999999/refund", token: operatorUser.token).status == 404)
            let unpaid = try await server.call("POST", "/v1/orders/\(pending)/refund", token: operatorUser.token)
            #expect(unpaid.status == 409 && unpaid.problemSlug == "not-paid")

            let first = try await server.call("POST", "/v1/orders/\(paid)/refund", token: operatorUser.token)
            #expect(first.status == 200, "\(first.bodyText)")
            #expect(first.json["status"] as? String == "refund_pending")
            let again = try await server.call("POST", "/v1/orders/\(paid)/refund", token: operatorUser.token)
            #expect(again.status == 200 && again.json["status"] as? String == "refund_pending")

            let refunds = try await server.pool.query(
                "SELECT count(*), min(requested_by), min(reason), min(webhook_id) FROM refunds WHERE order_id = $1", [.int(paid)])[0]
            #expect(try refunds.int(0) == 1 && refunds.int(1) == operatorUser.id && refunds.string(2) == "operator")
            let chargeKey = try await server.pool.query("SELECT webhook_id FROM orders WHERE id = $1", [.int(paid)])[0].string(0)
            #expect(try refunds.string(3) == "rf_" + chargeKey)
            let figures = try await server.pool.query("SELECT available, held, sold FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try figures.int(0) == 1 && figures.int(1) == 1 && figures.int(2) == 0)
            #expect(try await Self.refundJobs(server).count == 1)
            // The refund is on its way: not a violation.
            #expect(try await MoneyFixtures.audit(server.pool) == [])

            // The provider confirms by callback: refunded; a repeat of it changes nothing.
            for _ in 0..<2 {
                let callback = try await PaymentCallbackTests.sendRefund(server, type: "refund.succeeded", order: paid, webhookID: "cb_refund_1")
                #expect(callback.status == 204)
            }
            let order = try await server.call("GET", "/v1/orders/\(paid)", token: buyer.token)
            #expect(order.json["status"] as? String == "refunded")
            #expect(try await MoneyFixtures.audit(server.pool) == [])
        }
    }

    @Test func refundingADrawsOrderOffersTheUnitToTheNextWaitlistedEntrant() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .draw, status: .closing, stock: 1, waitlistDepth: 2)
            let entrants = try await DropFixtures.insertCustomers(server.pool, count: 3)
            try await DropFixtures.insertEntries(server.pool, dropID: drop, users: entrants)
            let winner = try #require(try await MoneyFixtures.draw(server.pool, dropID: drop).orders.first)
            try await MoneyFixtures.pay(server.pool, orders: [winner])
            #expect(try await server.pool.query("SELECT status FROM drops WHERE id = $1", [.int(drop)])[0].string(0) == "settled")
            // A settled drop stays settled: its unit is released, not offered again.
            let response = try await server.call("POST", "/v1/orders/\(winner)/refund", token: operatorUser.token)
            #expect(response.status == 200)
            let figures = try await server.pool.query("SELECT available, held, sold, status FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try figures.int(0) == 1 && figures.int(1) == 0 && figures.int(2) == 0 && figures.string(3) == "settled")

            // A drawn drop (still selling) offers the released unit to position 1.
            let second = try await DropFixtures.insertDrop(server.pool, kind: .draw, status: .closing, stock: 1, waitlistDepth: 2)
            try await DropFixtures.insertEntries(server.pool, dropID: second, users: entrants)
            let firstWinner = try #require(try await MoneyFixtures.draw(server.pool, dropID: second).orders.first)
            try await server.pool.query(
                "UPDATE orders SET status = 'paid', charge_state = 'done', payment_id = 'p' WHERE id = $1", [.int(firstWinner)])
            try await server.pool.query("UPDATE drops SET held = 0, sold = 1 WHERE id = $1", [.int(second)])
            #expect(try await server.call("POST", "/v1/orders/\(firstWinner)/refund", token: operatorUser.token).status == 200)
            let offered = try await server.pool.query(
                """
                SELECT r.position, o.status FROM drop_rankings r JOIN orders o ON o.id = r.order_id
                WHERE r.drop_id = $1 ORDER BY r.position
                """, [.int(second)]
            ).map { (try $0.int(0), try $0.string(1)) }
            #expect(offered.map(\.0) == [0, 1] && offered.map(\.1) == ["refund_pending", "pending_payment"])
            #expect(try await MoneyFixtures.audit(server.pool) == [])
        }
    }

    @Test func aCancelledOpenRunRefusesPurchasesVoidsUnpaidOrdersAndRefundsPaidOnes() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let buyers = try await server.makeUsers(3)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 3, closesIn: nil)
            #expect(try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyers[0].token).status == 201)
            let paid = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyers[1].id, paid: true)

            #expect(try await server.call("POST", "/v1/drops/\(drop)/cancel", token: buyers[2].token).status == 403)
            let cancelled = try await server.call("POST", "/v1/drops/\(drop)/cancel", token: operatorUser.token)
            #expect(cancelled.status == 200, "\(cancelled.bodyText)")
            #expect(cancelled.json["status"] as? String == "cancelled")
            #expect(cancelled.json["available"] as? Int == 3 && cancelled.json["held"] as? Int == 0 && cancelled.json["sold"] as? Int == 0)
            let again = try await server.call("POST", "/v1/drops/\(drop)/cancel", token: operatorUser.token)
            #expect(again.status == 200 && again.json["status"] as? String == "cancelled")

            let purchase = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyers[2].token)
            #expect(purchase.status == 409 && purchase.problemSlug == "not-open")
            let statuses = try await server.pool.query(
                "SELECT status FROM orders WHERE drop_id = $1 ORDER BY id", [.int(drop)]
            ).map { try $0.string(0) }
            #expect(statuses == ["cancelled", "refund_pending"])
            let who = try await server.pool.query("SELECT cancelled_by, cancelled_at IS NOT NULL FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try who.int(0) == operatorUser.id && who.bool(1))
            #expect(
                try await server.pool.query("SELECT count(*) FROM refunds WHERE order_id = $1 AND reason = 'drop_cancelled'", [.int(paid)])[0].int(0)
                    == 1)
            #expect(try await Self.refundJobs(server).count == 1)
            #expect(try await MoneyFixtures.audit(server.pool) == [])

            // The voided order's charge, in flight at the cancel, succeeds: recorded and refunded.
            let voided = try await server.pool.query(
                "SELECT id FROM orders WHERE drop_id = $1 AND status = 'cancelled'", [.int(drop)])[0].int(0)
            try await MoneyFixtures.pay(server.pool, orders: [voided])
            let late = try await server.pool.query("SELECT reason, status FROM refunds WHERE order_id = $1", [.int(voided)])
            #expect(try late.first?.string(0) == "late_success" && late.first?.string(1) == "pending")
            #expect(try await server.pool.query("SELECT status FROM orders WHERE id = $1", [.int(voided)])[0].string(0) == "cancelled")
            #expect(try await MoneyFixtures.audit(server.pool) == [])
        }
    }

    @Test func aCancelledDrawRefusesEntriesAndASettledDropCannotBeCancelled() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let customer = try await server.makeUser()
            let drop = try await server.makeDrop(kind: .draw)
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/cancel", token: operatorUser.token).status == 200)
            let entry = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token)
            #expect(entry.status == 409 && entry.problemSlug == "not-open")

            let settled = try await DropFixtures.insertDrop(server.pool, kind: .openRun, status: .settled, closesIn: nil)
            let refused = try await server.call("POST", "/v1/drops/\(settled)/cancel", token: operatorUser.token)
            #expect(refused.status == 409 && refused.problemSlug == "drop-final")
            #expect(try await server.call("POST", "/v1/drops/999999/cancel", token: operatorUser.token).status == 404)
        }
    }

    /// Cancel and the close job race for a closing draw: whichever commits first, the drop ends
    /// cancelled with no unit held or sold and no order left to charge.
    @Test(arguments: 0..<4)
    func cancelRacesTheCloseJob(round: Int) async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .draw, status: .closing, stock: 5, waitlistDepth: 5)
            try await DropFixtures.insertEntries(server.pool, dropID: drop, users: try await DropFixtures.insertCustomers(server.pool, count: 40))
            async let cancel = server.call("POST", "/v1/drops/\(drop)/cancel", token: operatorUser.token)
            async let close = MoneyFixtures.draw(server.pool, dropID: drop)
            let (cancelled, committed) = try await (cancel, close)
            #expect(cancelled.status == 200 && cancelled.json["status"] as? String == "cancelled")
            // A close job that ran after the cancel found nothing to draw.
            let live = try await server.pool.query(
                "SELECT count(*) FROM orders WHERE drop_id = $1 AND status IN ('pending_payment', 'paid')", [.int(drop)])[0].int(0)
            #expect(live == 0, "round \(round), drew now: \(committed.drewNow)")
            let figures = try await server.pool.query("SELECT available, held, sold FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try figures.int(0) == 5 && figures.int(1) == 0 && figures.int(2) == 0)
            #expect(try await MoneyFixtures.audit(server.pool) == [])
        }
    }
}
