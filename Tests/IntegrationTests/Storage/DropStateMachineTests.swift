import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// The database enforces the drop state machine for every status change, whatever code path
/// makes it, and its list of moves is exactly ``DropStatus/canMove(to:kind:)``.
@Suite struct DropStateMachineTests {
    @Test func theDatabaseAllowsExactlyTheMovesOfTheStateMachine() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let stored = Set(
                try await pool.query("SELECT kind, from_status, to_status FROM drop_status_moves").map {
                    "\(try $0.string(0)):\(try $0.string(1))→\(try $0.string(2))"
                })
            var expected = Set<String>()
            for kind in DropKind.allCases {
                for from in DropStatus.allCases {
                    for to in DropStatus.allCases where from.canMove(to: to, kind: kind) {
                        expected.insert("\(kind.rawValue):\(from.rawValue)→\(to.rawValue)")
                    }
                }
            }
            #expect(!expected.isEmpty)
            #expect(stored == expected)
        }
    }

    @Test func everyForbiddenMoveIsRefusedByTheDatabaseAndEveryAllowedOneApplies() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            for kind in DropKind.allCases {
                for from in DropStatus.allCases {
                    for to in DropStatus.allCases where to != from {
                        // A draw may only be drawn with its entries digest (a CHECK of its own).
                        let drop = try await DropFixtures.insertDrop(
                            pool, kind: kind, status: from, entriesDigest: kind.isDrawn ? String(repeating: "0", count: 64) : nil)
                        let update = "UPDATE drops SET status = $2 WHERE id = $1"
                        if from.canMove(to: to, kind: kind) {
                            let rows = try await pool.withConnection { try $0.query(update, [.int(drop), .text(to.rawValue)]) }
                            #expect(rows.affectedRows == 1, "\(kind) \(from) → \(to)")
                        } else {
                            let error = await #expect(throws: PostgresError.self, "\(kind) \(from) → \(to)") {
                                try await pool.query(update, [.int(drop), .text(to.rawValue)])
                            }
                            #expect(error?.code == .checkViolation, "\(kind) \(from) → \(to): \(String(describing: error))")
                            let status = try await pool.query("SELECT status FROM drops WHERE id = $1", [.int(drop)])[0].string(0)
                            #expect(status == from.rawValue)
                        }
                    }
                }
            }
        }
    }

    @Test func aDropNeverChangesItsKind() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let drop = try await DropFixtures.insertDrop(pool, kind: .draw, status: .open)
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE drops SET kind = 'open_run' WHERE id = $1", [.int(drop)])
            }
        }
    }
}
