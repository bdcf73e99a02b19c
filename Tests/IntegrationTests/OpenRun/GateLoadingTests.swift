import Foundation
import OpenRunGate
import Postgres
import Redis
import Scheduler
import ShopDomain
import Synchronization
import Testing

@testable import Storage

/// How gates come to be built from PostgreSQL: by the scheduler when a drop opens, and by
/// buyers who find none. Real PostgreSQL and Redis.
@Suite struct GateLoadingTests {
    /// A buyer can reach a drop the scheduler has just moved to open before the scheduler loads
    /// its gate: the buyer builds it and is admitted. The scheduler's load that follows must
    /// keep that admission counted, or the unit would be handed out twice by the gate.
    @Test func theSchedulerOpeningAGateBuyersAlreadyUseKeepsTheirAdmissions() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 5, closesIn: nil)
                try await GateLoader(pool: pool, gate: gate).loadIfMissing(dropID: drop)
                #expect(try await gate.admit(dropID: drop, userID: 1) == .admitted)
                #expect(try await gate.admit(dropID: drop, userID: 2) == .admitted)

                try await OpenRunGateHooks(pool: pool, gate: gate).opened([.init(dropID: drop, kind: .openRun)])
                let state = try #require(try await gate.state(dropID: drop))
                #expect(state == (true, 3, 2))
                #expect(try await gate.admit(dropID: drop, userID: 1) == .alreadyPurchased)
            }
        }
    }

    /// Buyers of one drop who all find the gate disagreeing with PostgreSQL at once rebuild it
    /// together, not once each.
    @Test func concurrentRebuildsOfOneGateShareOneReadOfPostgres() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                let gate = AdmissionGate(redis: redis, keyPrefix: prefix)
                let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 5, closesIn: nil)
                let loads = Atomic<Int>(0)
                let loader = GateLoader(pool: pool, gate: gate, onLoad: { loads.add(1, ordering: .relaxed) })
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<100 { group.addTask { try await loader.reload(dropID: drop) } }
                    try await group.waitForAll()
                }
                #expect(loads.load(ordering: .relaxed) < 100)
                #expect(try await gate.state(dropID: drop)! == (true, 5, 0))
            }
        }
    }

    /// The figures a gate is built from are read in one snapshot, buyers included.
    @Test func gateFiguresCountEveryBuyerOfTheDrop() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            let drop = try await DropFixtures.insertDrop(pool, kind: .openRun, stock: 5, closesIn: nil)
            let buyers = try await UserStore(pool: pool).createMany(
                emails: (0..<3).map { EmailAddress("buyer-\($0)@example.com")! }, passwordHash: "x", role: .customer)
            _ = try await pool.transaction { connection in
                try PurchaseStore.confirm(connection, buyers.map { .init(dropID: drop, userID: $0) }, paymentWindowSeconds: 600)
            }
            let figures = try #require(try await pool.withConnection { try PurchaseStore.gateFigures($0, dropID: drop) })
            #expect(figures.isOpenRun && figures.isOpen && figures.status == .open)
            #expect(figures.available == 2)
            #expect(figures.buyers.sorted() == buyers.sorted())

            let draw = try await DropFixtures.insertDrop(pool, kind: .draw)
            let drawFigures = try #require(try await pool.withConnection { try PurchaseStore.gateFigures($0, dropID: draw) })
            #expect(!drawFigures.isOpenRun && drawFigures.buyers.isEmpty)
            #expect(try await pool.withConnection { try PurchaseStore.gateFigures($0, dropID: draw + 1000) } == nil)
        }
    }
}
