import Postgres
import ShopDomain
import Storage
import Testing

/// An open-run that closes with no order pending has no settlement left to settle it: the
/// scheduler does (under its fencing term), and only then.
@Suite struct IdleOpenRunSettlementTests {
    @Test func aClosedOpenRunWithNothingPendingSettles() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("INSERT INTO scheduler_leadership (term, holder) VALUES (7, 'test')")
            let idle = try await DropFixtures.insertDrop(pool, kind: .openRun, status: .closed, stock: 2, closesIn: nil)
            let busy = try await DropFixtures.insertDrop(pool, kind: .openRun, status: .closed, stock: 2, closesIn: nil)
            let customer = try await DropFixtures.insertCustomers(pool, count: 1)[0]
            _ = try await MoneyFixtures.openRunOrder(pool, dropID: busy, userID: customer, paid: false)
            // A stale term settles nothing.
            #expect(try await pool.withConnection { try DropLifecycleStore.settleIdleClosedOpenRuns($0, term: 6) } == 0)
            #expect(try await pool.withConnection { try DropLifecycleStore.settleIdleClosedOpenRuns($0, term: 7) } == 1)
            let statuses = try await pool.query("SELECT status FROM drops WHERE id = ANY($1::bigint[]) ORDER BY id", [.intArray([idle, busy])])
                .map { try $0.string(0) }
            #expect(statuses == ["settled", "closed"])
        }
    }
}
