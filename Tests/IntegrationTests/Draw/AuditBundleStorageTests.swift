import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// How the close stores a draw (issue 20, the ten-million-entry raffle's cost): the bundle's
/// chunks uncompressed at rest (migration 0009), the ranking linked to the winners' orders in
/// the statement that inserts it.
@Suite struct AuditBundleStorageTests {
    @Test func aDrawsBundleIsStoredUncompressedAndItsRankingLinkedToItsOrders() async throws {
        try await withShopStack { stack in
            let dropID = try await DropFixtures.insertDrop(
                stack.pool, kind: .raffle, status: .closing, stock: 30, waitlistDepth: 20, maxTickets: 5)
            let customers = try await DropFixtures.insertCustomers(stack.pool, count: 3000)
            try await DropFixtures.insertEntries(stack.pool, dropID: dropID, users: customers, tickets: { 1 + $0 % 5 })
            try await DrawCloser.close(stack, dropID: dropID)

            // A chunk of tens of kilobytes of JSON digits: pglz would have compressed it.
            let chunks = try await stack.pool.query(
                """
                SELECT octet_length(bytes), pg_column_compression(bytes) FROM audit_bundle_chunks WHERE drop_id = $1
                """, [.int(dropID)])
            #expect(chunks.count == 1)
            #expect(try chunks[0].int(0) > 20_000)
            #expect(try chunks[0].optionalString(1) == nil, "stored without compression")
            // Bit for bit the bundle the entries and the ranking make.
            let stored = try await stack.pool.withConnection { try AuditBundleStore.storedBundle($0, dropID: dropID) }
            guard case .bundle(let rebuilt) = try await stack.pool.withConnection({ try AuditBundleStore.rebuilt($0, dropID: dropID) }) else {
                Issue.record("no rebuilt bundle")
                return
            }
            #expect(try #require(stored).jsonBytes() == rebuilt.jsonBytes())
            #expect(AuditVerifier.verify(rebuilt) == [])

            // Winners (positions 0..<30) hold their own order; the waitlist none yet.
            let ranking = try await stack.pool.query(
                """
                SELECT r.position, r.order_id IS NOT NULL, o.user_id IS NOT DISTINCT FROM r.user_id
                FROM drop_rankings r LEFT JOIN orders o ON o.id = r.order_id
                WHERE r.drop_id = $1 ORDER BY r.position
                """, [.int(dropID)]
            ).map { (try $0.int(0), try $0.bool(1), try $0.bool(2)) }
            #expect(ranking.count == 50)
            #expect(ranking.allSatisfy { $0.1 == ($0.0 < 30) })
            #expect(ranking.filter { $0.1 }.allSatisfy { $0.2 }, "each winner's order is their own")
            #expect(try await stack.pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(dropID)])[0].int(0) == 30)
        }
    }
}
