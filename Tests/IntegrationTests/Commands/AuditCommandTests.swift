import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// `fastest-shop audit` can fail: each invariant of docs/contract.md, "Invariants", is broken in the
/// database, and the command exits 1 naming it; a database it cannot reach is exit 2, never 1.
@Suite struct AuditCommandTests {
    /// A database that holds every invariant: a drawn draw with a paid winner and a waitlist,
    /// an open-run with a paid order, and a late success whose refund is in progress.
    static func healthyShop(_ pool: PostgresPool) async throws -> (draw: Int, openRun: Int, paid: Int, late: Int) {
        let draw = try await DropFixtures.insertDrop(pool, kind: .draw, status: .closing, stock: 1, waitlistDepth: 2)
        let entrants = try await DropFixtures.insertCustomers(pool, count: 4)
        try await DropFixtures.insertEntries(pool, dropID: draw, users: entrants)
        let winner = try #require(try await MoneyFixtures.draw(pool, dropID: draw).orders.first)
        try await MoneyFixtures.pay(pool, orders: [winner])
        let openRun = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 3, closesIn: nil)
        let paid = try await MoneyFixtures.openRunOrder(pool, dropID: openRun, userID: entrants[0], paid: true)
        try await pool.query(
            "INSERT INTO charge_attempts (order_id, attempt, outcome, payment_id) SELECT id, 1, 'succeeded', payment_id FROM orders WHERE id = $1",
            [.int(paid)])
        let late = try await MoneyFixtures.openRunOrder(pool, dropID: openRun, userID: entrants[1], paid: false)
        _ = try await pool.withConnection { connection in
            try connection.transaction { transaction in
                try OrderSettlementStore.apply(
                    transaction,
                    [
                        Settlement(orderID: late, outcome: .expired),
                        Settlement(orderID: late, outcome: .paid(paymentID: "pay_late"), attempt: 1, httpStatus: 200),
                    ], paymentWindowSeconds: 900)
            }
        }
        return (draw, openRun, paid, late)
    }

    static func audit(_ database: PostgresConfiguration, port: Int? = nil) async throws -> (status: Int32, output: String) {
        var environment = try await TestServices.shared.connectionSettings()
        environment["FASTEST_SHOP_POSTGRES_DATABASE"] = database.database
        environment["FASTEST_SHOP_POSTGRES_CONNECT_TIMEOUT_S"] = "2"
        if let port { environment["FASTEST_SHOP_POSTGRES_PORT"] = String(port) }
        let process = try ShopProcess(["audit"], environment: environment)
        let status = try await process.waitForExit(timeout: 60)
        return (status, process.output)
    }

    typealias Breakage = @Sendable (PostgresPool, (draw: Int, openRun: Int, paid: Int, late: Int)) async throws -> Void

    static let breakages: [(String, String, Breakage)] = [
        (
            "a held count off by one", "must hold with held",
            { pool, shop in
                try await pool.query("UPDATE drops SET held = held + 1, available = available - 1 WHERE id = $1", [.int(shop.openRun)])
            }
        ),
        (
            "a tampered ranking", "drop",
            { pool, shop in
                // The stored ranking no longer follows from the seed and entries.
                try await pool.query("UPDATE drops SET beacon = 'tampered' WHERE id = $1", [.int(shop.draw)])
            }
        ),
        (
            "money kept without a unit", "money kept for no unit",
            { pool, shop in
                try await pool.query("DELETE FROM refunds WHERE order_id = $1", [.int(shop.late)])
            }
        ),
        (
            "a refund that failed", "money kept for no unit",
            { pool, shop in
                try await pool.query("UPDATE refunds SET status = 'failed', refund_state = 'done' WHERE order_id = $1", [.int(shop.late)])
            }
        ),
        (
            "a double charge", "different successful charges",
            { pool, shop in
                try await pool.query(
                    "INSERT INTO charge_attempts (order_id, attempt, outcome, payment_id) VALUES ($1, 2, 'succeeded', 'pay_other')",
                    [.int(shop.paid)])
            }
        ),
        (
            "two live orders for one customer", "live orders",
            { pool, shop in
                try await pool.query("DROP INDEX orders_one_live_per_customer")
                try await pool.query(
                    """
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at)
                    SELECT drop_id, user_id, amount_cents, currency, now() + interval '1 minute' FROM orders WHERE id = $1
                    """, [.int(shop.paid)])
                try await pool.query("UPDATE drops SET held = held + 1, available = available - 1 WHERE id = $1", [.int(shop.openRun)])
            }
        ),
        (
            "a paid order without a payment id", "paid without a payment id",
            { pool, shop in
                try await pool.query("ALTER TABLE orders DROP CONSTRAINT orders_paid_has_payment")
                try await pool.query("UPDATE orders SET payment_id = NULL WHERE id = $1", [.int(shop.paid)])
            }
        ),
        (
            "a waitlist skipped", "was offered a unit before position",
            { pool, shop in
                try await pool.query(
                    """
                    UPDATE drop_rankings SET order_id = (SELECT order_id FROM drop_rankings WHERE drop_id = $1 AND position = 0)
                    WHERE drop_id = $1 AND position = 2
                    """, [.int(shop.draw)])
            }
        ),
        (
            "a refunded order without its refund", "without a refund",
            { pool, shop in
                try await pool.query(
                    """
                    WITH o AS (UPDATE orders SET status = 'refunded' WHERE id = $1 RETURNING drop_id)
                    UPDATE drops SET sold = sold - 1, available = available + 1 WHERE id = (SELECT drop_id FROM o)
                    """, [.int(shop.paid)])
            }
        ),
    ]

    @Test func aHealthyShopPassesWithItsRefundInProgress() async throws {
        try await withTestDatabase(poolSize: 1) { pool, database in
            _ = try await Self.healthyShop(pool)
            let (status, output) = try await Self.audit(database)
            #expect(status == 0, "\(output)")
            #expect(output.contains("1 refunds in progress"), "\(output)")
        }
    }

    @Test(arguments: 0..<breakages.count)
    func eachBrokenInvariantFailsTheAuditNamingIt(_ index: Int) async throws {
        let (name, expected, breakIt) = Self.breakages[index]
        try await withTestDatabase(poolSize: 1) { pool, database in
            let shop = try await Self.healthyShop(pool)
            try await breakIt(pool, shop)
            let (status, output) = try await Self.audit(database)
            #expect(status == 1, "\(name): \(output)")
            let violations = output.split(separator: "\n").filter { $0.contains("VIOLATION") }
            #expect(violations.contains { $0.contains(expected) }, "\(name): \(output)")
        }
    }

    @Test func aDatabaseThatCannotBeReachedIsExitTwoNotOne() async throws {
        let closed = try ClosedPort()
        try await withTestDatabase(poolSize: 1) { _, database in
            let (status, output) = try await Self.audit(database, port: closed.number)
            #expect(status == 2, "\(output)")
            #expect(!output.contains("VIOLATION"))
        }
    }
}
