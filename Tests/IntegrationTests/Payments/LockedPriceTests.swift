import CurlHTTP
import Foundation
import JobQueue
import Postgres
import Redis
import ShopDomain
import Testing

/// A drop's price is locked when it is created (docs/payments.md, "Charges"); free units are paid at
/// once; order keys carry a random part; one *live* order per customer per drop.
@Suite struct LockedPriceTests {
    @Test func aDropLocksItsProductsPriceAndEveryOrderChargesIt() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let product = try await server.call(
                "POST", "/v1/products", token: operatorUser.token, body: #"{"name":"Runner","price_cents":12000,"currency":"EUR"}"#)
            let productID = try #require(product.json["id"] as? Int)
            let opensAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-1))
            let created = try await server.call(
                "POST", "/v1/drops", token: operatorUser.token,
                body: #"{"product_id":\#(productID),"kind":"open_run","stock":3,"opens_at":"\#(opensAt)"}"#)
            #expect(created.status == 201, "\(created.bodyText)")
            let dropID = try #require(created.json["id"] as? Int)
            #expect(created.json["price_cents"] as? Int == 12000 && created.json["currency"] as? String == "EUR")

            // The product's price changes during the drop: the drop keeps its own.
            let patched = try await server.call(
                "PATCH", "/v1/products/\(productID)", token: operatorUser.token, body: #"{"price_cents":9900,"currency":"USD"}"#)
            #expect(patched.status == 200)
            let read = try await server.call("GET", "/v1/drops/\(dropID)")
            #expect(read.json["price_cents"] as? Int == 12000 && read.json["currency"] as? String == "EUR")

            // Open from its creation: opens_at has passed.
            let buyer = try await server.makeUser()
            let order = try await server.call("POST", "/v1/drops/\(dropID)/purchase", token: buyer.token)
            #expect(order.status == 201, "\(order.bodyText)")
            #expect(order.json["amount_cents"] as? Int == 12000 && order.json["currency"] as? String == "EUR")

            // Nobody can change a locked price, whichever code path tries.
            await #expect(throws: PostgresError.self) {
                try await server.pool.query("UPDATE drops SET price_cents = 1 WHERE id = $1", [.int(dropID)])
            }
        }
    }

    @Test func existingDropsAreBackfilledAndFixtureInsertsGetThePriceToo() async throws {
        try await withTestDatabase { pool, _ in
            let product = try await DropFixtures.insertProduct(pool, priceCents: 4321, currency: "GBP")
            let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, closesIn: nil, productID: product)
            let row = try await pool.query("SELECT price_cents, currency FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try row.int(0) == 4321 && row.string(1) == "GBP")
        }
    }

    @Test func aFreeUnitIsPaidAtOnceWithoutACharge() async throws {
        try await withIntakeServer { server in
            let product = try await server.makeProduct(priceCents: 0)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 1, closesIn: nil, productID: product.id)
            let buyer = try await server.makeUser()
            let order = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
            #expect(order.status == 201, "\(order.bodyText)")
            #expect(order.json["status"] as? String == "paid" && order.json["amount_cents"] as? Int == 0)
            let figures = try await server.pool.query("SELECT available, held, sold, status FROM drops WHERE id = $1", [.int(drop)])[0]
            #expect(try figures.int(0) == 0 && figures.int(1) == 0 && figures.int(2) == 1)
            #expect(try figures.string(3) == "settled")
            // Nothing to charge: no charge job was enqueued.
            let queued = try await server.redis.send(RedisCommand("LLEN", JobQueue.keyPrefix(deployment: server.keyPrefix) + "{payments}:q"))
                .requireInt()
            #expect(queued == 0)
        }
    }

    @Test func orderKeysCarryARandomPartDrawnAtCreation() async throws {
        try await withTestDatabase { pool, _ in
            let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 2, closesIn: nil)
            let users = try await DropFixtures.insertCustomers(pool, count: 2)
            let keys = try await pool.query(
                """
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at)
                SELECT $1, u, 100, 'EUR', now() + interval '1 minute' FROM unnest($2::bigint[]) AS u
                RETURNING webhook_id
                """, [.int(drop), .intArray(users)]
            ).map { try $0.string(0) }
            #expect(keys.count == 2 && Set(keys).count == 2)
            for key in keys {
                // Nothing derived from the drop or the customer: 32 random hex digits.
                #expect(key.hasPrefix("wh_") && key.count == 35, "\(key)")
                #expect(key.dropFirst(3).allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(key)")
            }
        }
    }

    @Test func aDeclinedBuyerMayBuyAgainButNobodyHoldsTwoLiveOrders() async throws {
        try await withIntakeServer(["open_run.strategy": "classic"]) { server in
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 2, closesIn: nil)
            let buyer = try await server.makeUser()
            let first = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
            #expect(first.status == 201)
            let again = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
            #expect(again.status == 409 && again.problemSlug == "already-purchased")
            // The payment is declined: the unit goes back and the buyer may try again.
            let firstID = try #require(first.json["id"] as? Int)
            try await server.pool.query(
                """
                WITH o AS (UPDATE orders SET status = 'failed', charge_state = 'done' WHERE id = $1 RETURNING drop_id)
                UPDATE drops SET held = held - 1, available = available + 1 WHERE id = (SELECT drop_id FROM o)
                """, [.int(firstID)])
            let retried = try await server.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
            #expect(retried.status == 201, "\(retried.bodyText)")
            #expect(retried.json["id"] as? Int != firstID)
            // The database itself refuses a second live order.
            await #expect(throws: PostgresError.self) {
                try await server.pool.query(
                    """
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at)
                    VALUES ($1, $2, 100, 'EUR', now() + interval '1 minute')
                    """, [.int(drop), .int(buyer.id)])
            }
        }
    }
}
