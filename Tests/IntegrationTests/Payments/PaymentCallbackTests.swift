import CurlHTTP
import Foundation
import Intake
import OpenRunGate
import Postgres
import ShopDomain
import Storage
import Testing

/// `POST /v1/payments/callback` over real HTTP: only correctly signed, fresh callbacks change
/// anything; a repeated `webhook-id` is acknowledged and ignored; final states never move back.
@Suite struct PaymentCallbackTests {
    /// A drop with one pending order waiting for its callback; returns (drop, order).
    static func pendingOrder(_ server: IntakeTestServer, kind: DropKind = .openRun) async throws -> (drop: Int, order: Int) {
        let drop = try await DropFixtures.insertDrop(server.pool, kind: kind, stock: 1, closesIn: kind == .openRun ? nil : 3600)
        let customer = try await server.makeUser()
        let order = try await server.pool.withConnection { connection in
            try connection.transaction { transaction in
                try transaction.query("UPDATE drops SET available = 0, held = 1 WHERE id = $1", [.int(drop)])
                return try transaction.query(
                    """
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at, charge_state, payment_id)
                    VALUES ($1, $2, 1000, 'EUR', $3, now() + interval '10 minutes', 'awaiting_callback', 'pay_1')
                    RETURNING id
                    """, [.int(drop), .int(customer.id), .text("wh_\(drop)_\(customer.id)")])[0].int(0)
            }
        }
        return (drop, order)
    }

    static func send(
        _ server: IntakeTestServer, type: String, order: Int, webhookID: String = "cb_\(UUID().uuidString)",
        secret: String = IntakeTestServer.callbackSecret, timestamp: Int = Int(Date().timeIntervalSince1970),
        signature: String? = nil, paymentID: String? = "pay_1"
    ) async throws -> HTTPResponse {
        let paymentField = paymentID.map { #","payment_id":"\#($0)""# } ?? ""
        let body = Array(#"{"type":"\#(type)","order_id":\#(order)\#(paymentField)}"#.utf8)
        let signed = signature ?? WebhookSignature.sign(secret: secret, id: webhookID, timestamp: timestamp, body: body)
        return try await post(server, body, webhookID: webhookID, timestamp: timestamp, signature: signed)
    }

    /// POSTs a callback `body` with its webhook headers.
    static func post(_ server: IntakeTestServer, _ body: [UInt8], webhookID: String, timestamp: Int, signature: String) async throws
        -> HTTPResponse
    {
        try await server.http.execute(
            HTTPRequest(
                method: "POST", url: server.baseURL + "/v1/payments/callback",
                headers: [
                    (WebhookHeaders.idName, webhookID), (WebhookHeaders.timestampName, String(timestamp)),
                    (WebhookHeaders.signatureName, signature), ("Content-Type", "application/json"),
                ],
                body: body))
    }

    /// A signed `refund.succeeded` / `refund.failed` callback.
    static func sendRefund(
        _ server: IntakeTestServer, type: String, order: Int, webhookID: String = "cb_\(UUID().uuidString)"
    ) async throws -> HTTPResponse {
        let body = Array(#"{"type":"\#(type)","order_id":\#(order),"refund_id":"re_1"}"#.utf8)
        let timestamp = Int(Date().timeIntervalSince1970)
        let signed = WebhookSignature.sign(secret: IntakeTestServer.callbackSecret, id: webhookID, timestamp: timestamp, body: body)
        return try await post(server, body, webhookID: webhookID, timestamp: timestamp, signature: signed)
    }

    static func state(_ server: IntakeTestServer, _ ids: (drop: Int, order: Int)) async throws -> (
        order: String, held: Int, sold: Int, available: Int
    ) {
        let order = try await server.pool.query("SELECT status FROM orders WHERE id = $1", [.int(ids.order)])[0].string(0)
        let drop = try await server.pool.query("SELECT held, sold, available FROM drops WHERE id = $1", [.int(ids.drop)])[0]
        return (order, try drop.int(0), try drop.int(1), try drop.int(2))
    }

    /// A success for an order whose window has passed (its unit released) is recorded and
    /// refunded, once however often it is repeated; `audit` sees the refund in progress.
    @Test func aLateSuccessIsRecordedAndRefundedOnce() async throws {
        try await withIntakeServer { server in
            let ids = try await Self.pendingOrder(server)
            try await server.pool.query("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1", [.int(ids.order)])
            _ = try await server.pool.withConnection { connection in
                try connection.transaction {
                    try OrderSettlementStore.apply($0, Settlement(orderID: ids.order, outcome: .expired), paymentWindowSeconds: 900)
                }
            }
            let before = try await server.metric("payments_late_success_total")
            for _ in 0..<2 {
                #expect(try await Self.send(server, type: "charge.succeeded", order: ids.order).status == 204)
            }
            #expect(try await Self.state(server, ids) == ("expired", 0, 0, 1))
            let refund = try await server.pool.query(
                "SELECT reason, status, payment_id, amount_cents FROM refunds WHERE order_id = $1", [.int(ids.order)])
            #expect(refund.count == 1)
            #expect(try refund[0].string(0) == "late_success" && refund[0].string(1) == "pending")
            #expect(try refund[0].string(2) == "pay_1" && refund[0].int(3) == 1000)
            #expect(try await server.metric("payments_late_success_total") == before + 1)
            #expect(try await OperatorActionTests.refundJobs(server).count == 1)
            #expect(try await MoneyFixtures.audit(server.pool) == [])
            // Without its refund the money would be kept for no unit: audit says so.
            try await server.pool.query("UPDATE refunds SET status = 'failed', refund_state = 'done' WHERE order_id = $1", [.int(ids.order)])
            let violations = try await MoneyFixtures.audit(server.pool)
            #expect(violations.count == 1 && violations[0].contains("money kept for no unit"), "\(violations)")
        }
    }

    /// A success without `payment_id` once stored "unknown" over the id the charge's answer gave.
    @Test func aCallbackWithoutAPaymentIDKeepsTheStoredOne() async throws {
        try await withIntakeServer { server in
            let ids = try await Self.pendingOrder(server)
            try await server.pool.query("UPDATE orders SET payment_id = 'pay_real' WHERE id = $1", [.int(ids.order)])
            let response = try await Self.send(server, type: "charge.succeeded", order: ids.order, paymentID: nil)
            #expect(response.status == 204)
            let order = try await server.pool.query("SELECT status, payment_id FROM orders WHERE id = $1", [.int(ids.order)])[0]
            #expect(try order.string(0) == "paid" && order.string(1) == "pay_real")
        }
    }

    @Test func forgedAndStaleCallbacksChangeNothing() async throws {
        try await withIntakeServer { server in
            let ids = try await Self.pendingOrder(server)
            let forged = try await Self.send(server, type: "charge.succeeded", order: ids.order, secret: "not-the-provider")
            #expect(forged.status == 401)
            let stale = try await Self.send(
                server, type: "charge.succeeded", order: ids.order,
                timestamp: Int(Date().timeIntervalSince1970) - 301)
            #expect(stale.status == 401)
            let garbled = try await Self.send(server, type: "charge.succeeded", order: ids.order, signature: "v1,AAAA")
            #expect(garbled.status == 401)
            #expect(try await Self.state(server, ids) == ("pending_payment", 1, 0, 0))
            let events = try await server.pool.query("SELECT count(*) FROM payment_events")[0].int(0)
            #expect(events == 0)
        }
    }

    @Test func aRepeatedWebhookIDIsAcknowledgedAndIgnoredAndFinalStatesNeverMoveBack() async throws {
        try await withIntakeServer { server in
            let ids = try await Self.pendingOrder(server)
            let first = try await Self.send(server, type: "charge.succeeded", order: ids.order, webhookID: "cb_same")
            #expect(first.status == 204)
            #expect(try await Self.state(server, ids) == ("paid", 0, 1, 0))
            // The same delivery again, even claiming a failure, is acknowledged and ignored.
            let replay = try await Self.send(server, type: "charge.failed", order: ids.order, webhookID: "cb_same")
            #expect(replay.status == 204)
            // A new delivery saying the charge failed cannot undo a payment.
            let backwards = try await Self.send(server, type: "charge.failed", order: ids.order)
            #expect(backwards.status == 204)
            #expect(try await Self.state(server, ids) == ("paid", 0, 1, 0))
        }
    }

    @Test func aFailedCallbackReleasesTheUnit() async throws {
        try await withIntakeServer { server in
            let ids = try await Self.pendingOrder(server)
            let failed = try await Self.send(server, type: "charge.failed", order: ids.order)
            #expect(failed.status == 204)
            #expect(try await Self.state(server, ids) == ("failed", 0, 0, 1))
            let gate = try await server.service.gate.state(dropID: ids.drop)
            #expect(gate == nil, "no gate was loaded, so none is invented; the scheduler builds it from PostgreSQL")
        }
    }

    @Test func anUnknownOrderIs404WithoutSideEffects() async throws {
        try await withIntakeServer { server in
            let unknown = try await Self.send(server, type: "charge.succeeded", order: 987_654)
            #expect(unknown.status == 404)
            #expect(try await server.pool.query("SELECT count(*) FROM payment_events")[0].int(0) == 0)
            let malformed = try await server.http.execute(
                HTTPRequest(
                    method: "POST", url: server.baseURL + "/v1/payments/callback", body: Array("{}".utf8)))
            #expect(malformed.status == 401, "unsigned requests are refused before their body is read")
        }
    }
}
