import CurlHTTP
import Foundation
import Postgres
import Settings
import ShopDomain
import Testing

@Suite struct OrderRoutesTests {
    @Test func onlyTheOwnerOrAnOperatorSeesAnOrder() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop()
            let owner = try await server.makeUser()
            let other = try await server.makeUser()
            let operatorUser = try await server.makeUser(role: .operator)
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: owner.token).status == 201)
            let orderID = try await server.pool.query(
                """
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                VALUES ($1, $2, 12000, 'EUR', $3, now() + interval '15 minutes') RETURNING id
                """,
                [.int(drop.id), .int(owner.id), .text(UUID().uuidString)])[0].int(0)

            let mine = try await server.call("GET", "/v1/orders/\(orderID)", token: owner.token)
            #expect(mine.status == 200)
            #expect(mine.json["status"] as? String == "pending_payment")
            #expect(mine.json["amount_cents"] as? Int == 12000)
            #expect(try await server.call("GET", "/v1/orders/\(orderID)", token: operatorUser.token).status == 200)

            let someoneElses = try await server.call("GET", "/v1/orders/\(orderID)", token: other.token)
            #expect(someoneElses.status == 404)
            #expect(
                someoneElses.json["detail"] as? String == (try await server.call("GET", "/v1/orders/999999", token: other.token)).json["detail"]
                    as? String)
            #expect(try await server.call("GET", "/v1/orders/\(orderID)").status == 401)
        }
    }
}
