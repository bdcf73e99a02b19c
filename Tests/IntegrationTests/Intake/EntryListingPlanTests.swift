import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// `GET /v1/me/entries` with many drops (issue 20): entries are partitioned by drop, so a
/// customer's listing must not visit every drop's partition. It reads `customer_entries`
/// (migration 0009), one index range of the customer's own rows.
@Suite struct EntryListingPlanTests {
    @Test func aCustomersListingReadsTheirOwnRowsAndNoEntriesPartition() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            let product = try await DropFixtures.insertProduct(pool)
            var drops: [Int] = []
            for _ in 0..<12 { drops.append(try await DropFixtures.insertDrop(pool, kind: .draw, productID: product)) }
            let customers = try await DropFixtures.insertCustomers(pool, count: 40)
            // Every customer in every drop: each partition holds rows of the listed customer.
            for drop in drops { try await DropFixtures.insertEntries(pool, dropID: drop, users: customers) }
            try await pool.query("ANALYZE")
            let customer = customers[7]

            for cursor: [PostgresValue] in [[.null, .null], [.int(1_000_000_000_000_000), .int(drops[5])]] {
                let plan = try await pool.query(
                    "EXPLAIN (COSTS OFF) " + ListingStore.entriesSQL, [.int(customer)] + cursor + [.int(5)]
                ).map { try $0.string(0) }.joined(separator: "\n")
                #expect(plan.contains("customer_entries"), "\(plan)")
                #expect(!plan.contains("entries_drop_"), "no partition of entries is read:\n\(plan)")
            }

            // Pages of 5 over 12 drops: every entry once, newest first (same instant: drop id descending).
            let listings = ListingStore(pool: pool)
            var listed: [ListedEntry] = []
            var cursor: EntryCursor?
            repeat {
                let page = try await listings.entries(userID: customer, after: cursor, limit: 5)
                listed += page
                cursor = page.count == 5 ? page.last?.cursor : nil
            } while cursor != nil
            let expected = try await pool.query(
                "SELECT drop_id FROM entries WHERE user_id = $1 ORDER BY created_at DESC, drop_id DESC", [.int(customer)]
            ).map { try $0.int(0) }
            #expect(expected.count == 12)
            #expect(listed.map(\.standing.entry.dropID) == expected)
            #expect(listed.allSatisfy { $0.standing.entry.userID == customer })
        }
    }

    /// `customer_entries` follows every way entries are written: a COPY, an INSERT of many
    /// rows, and the intake's ON CONFLICT DO NOTHING (a repeat adds no second row).
    @Test func customerEntriesFollowEveryInsertIntoEntries() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            let product = try await DropFixtures.insertProduct(pool)
            let first = try await DropFixtures.insertDrop(pool, kind: .draw, productID: product)
            let second = try await DropFixtures.insertDrop(pool, kind: .raffle, maxTickets: 5, productID: product)
            let customers = try await DropFixtures.insertCustomers(pool, count: 6)
            try await DropFixtures.insertEntries(pool, dropID: first, users: customers)
            try await pool.query(
                "INSERT INTO entries (drop_id, user_id, tickets) SELECT $1, u, 3 FROM unnest($2::bigint[]) u",
                [.int(second), .intArray(Array(customers.prefix(4)))])
            try await pool.query(
                "INSERT INTO entries (drop_id, user_id, tickets) VALUES ($1, $2, 5) ON CONFLICT (drop_id, user_id) DO NOTHING",
                [.int(second), .int(customers[0])])
            func rows(_ table: String) async throws -> [String] {
                try await pool.query(
                    "SELECT concat_ws(' ', drop_id, user_id, tickets, created_at) FROM \(table) ORDER BY drop_id, user_id"
                ).map { try $0.string(0) }
            }
            let entries = try await rows("entries")
            #expect(entries.count == 10)
            #expect(try await rows("customer_entries") == entries)
        }
    }
}
