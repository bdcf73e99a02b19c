import Postgres
import ShopDomain
import Storage
import Testing

/// An order's payment window is judged by the database's clock alone: the expiry job, which
/// Redis's clock promotes, asks the database how long is left instead of comparing the two.
@Suite struct OrderExpiryTests {
    @Test func theTimeLeftInAPaymentWindowComesFromTheDatabaseClock() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 2, closesIn: nil)
            let customers = try await DropFixtures.insertCustomers(pool, count: 2)
            var orders: [Int] = []
            for (customer, window) in zip(customers, ["1 hour", "-1 second"]) {
                orders.append(try await pool.query("""
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                    VALUES ($1, $2, 1000, 'EUR', $3, now() + $4::interval)
                    RETURNING id
                    """, [.int(drop), .int(customer), .text("wh_\(drop)_\(customer)"), .text(window)])[0].int(0))
            }
            let (openID, endedID) = (orders[0], orders[1])
            let open = try #require(try await pool.withConnection { try OrderStore.chargeContext($0, orderID: openID) })
            #expect(!open.isExpired)
            #expect(open.millisecondsUntilExpiry > 3_590_000 && open.millisecondsUntilExpiry <= 3_600_000)
            let ended = try #require(try await pool.withConnection { try OrderStore.chargeContext($0, orderID: endedID) })
            #expect(ended.isExpired)
            #expect(ended.millisecondsUntilExpiry <= -1_000)
        }
    }
}
