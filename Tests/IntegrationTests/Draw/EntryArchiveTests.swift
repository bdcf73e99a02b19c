import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Storage
import Testing

/// Entries partitioned by drop (issue 20): each draw's entries live in a partition created with
/// the drop; a settled drop's partition can be archived, and its draw stays published and audited.
@Suite struct EntryArchiveTests {
    @Test func aDropGetsItsOwnPartitionInTheTransactionThatCreatesIt() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let product = try await DropFixtures.insertProduct(pool)
            let rolledBack: Int = try await pool.withConnection { connection in
                try connection.query("BEGIN")
                let id = try connection.query(
                    """
                    INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at, seed, commitment)
                    VALUES ($1, 'draw', 'open', 1, 1, now(), now() + interval '1 hour', $2::bytea, 'x') RETURNING id
                    """, [.int(product), .bytes([UInt8](repeating: 1, count: 32))])[0].int(0)
                #expect(try connection.query("SELECT to_regclass($1) IS NOT NULL", [.text("entries_drop_\(id)")])[0].bool(0))
                try connection.query("ROLLBACK")
                return id
            }
            #expect(try await pool.query("SELECT to_regclass($1) IS NULL", [.text("entries_drop_\(rolledBack)")])[0].bool(0))

            let draw = try await DropFixtures.insertDrop(pool, kind: .raffle, maxTickets: 3, productID: product)
            let openRun = try await DropFixtures.insertDrop(pool, kind: .openRun, closesIn: nil, productID: product)
            let partitions = try await pool.query(
                """
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'entries'::regclass ORDER BY c.relname
                """
            ).map { (try $0.string(0), try $0.string(1)) }
            #expect(partitions.map(\.0) == ["entries_drop_\(draw)"], "open-runs take no entries: no partition")
            #expect(partitions.first?.1 == "FOR VALUES IN ('\(draw)')")
            // The partition has its own primary key (customers' listings read customer_entries, 0009).
            let indexes = try await pool.query(
                "SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", [.text("entries_drop_\(draw)")]
            ).map { try $0.string(0) }
            #expect(indexes.count == 1)
            #expect(indexes.contains { $0.contains("UNIQUE") && $0.contains("(drop_id, user_id)") })
            let customers = try await DropFixtures.insertCustomers(pool, count: 3)
            try await DropFixtures.insertEntries(pool, dropID: draw, users: customers)
            #expect(try await pool.query("SELECT count(*) FROM entries_drop_\(draw)")[0].int(0) == 3)
            _ = openRun
        }
    }

    /// A settled draw, drawn by the close job, and its bundle as served before archiving.
    static func settledDraw(_ stack: ShopStack, storeBundle: Bool) async throws -> Int {
        let dropID = try await DropFixtures.insertDrop(stack.pool, kind: .raffle, status: .closing, stock: 2, waitlistDepth: 2, maxTickets: 4)
        let customers = try await DropFixtures.insertCustomers(stack.pool, count: 40)
        try await DropFixtures.insertEntries(stack.pool, dropID: dropID, users: customers, tickets: { 1 + $0 % 4 })
        if storeBundle {
            try await DrawCloser.close(stack, dropID: dropID)
        } else {
            // As a draw committed before bundles were stored.
            let orders = try await MoneyFixtures.drawWithoutBundle(stack.pool, dropID: dropID)
            #expect(try await stack.pool.query("SELECT count(*) FROM audit_bundles")[0].int(0) == 0)
            _ = orders
        }
        let orders = try await stack.pool.query("SELECT id FROM orders WHERE drop_id = $1", [.int(dropID)]).map { try $0.int(0) }
        try await MoneyFixtures.pay(stack.pool, orders: orders)
        #expect(try await stack.pool.query("SELECT status FROM drops WHERE id = $1", [.int(dropID)])[0].string(0) == "settled")
        return dropID
    }

    @Test(arguments: [true, false])
    func archivingASettledDropKeepsItsBundleAndTheAuditPassing(_ storedAtDraw: Bool) async throws {
        try await withShopStack { stack in
            let dropID = try await Self.settledDraw(stack, storeBundle: storedAtDraw)
            try await stack.startServe()
            let before = try await stack.call("GET", "/v1/drops/\(dropID)/audit")
            #expect(before.status == 200)

            let archived = try await stack.command(["admin", "archive-drop", String(dropID)])
            #expect(archived.status == 0, "\(archived.output)")
            #expect(
                archived.output.contains("archived drop \(dropID): 40 entries detached into entries_archive.entries_drop_\(dropID)"),
                "\(archived.output)")
            #expect(try await stack.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0) == 0)
            #expect(try await stack.pool.query("SELECT count(*) FROM entries_archive.entries_drop_\(dropID)")[0].int(0) == 40)
            #expect(try await stack.pool.query("SELECT entries_archived_at IS NOT NULL FROM drops WHERE id = $1", [.int(dropID)])[0].bool(0))

            let after = try await stack.call("GET", "/v1/drops/\(dropID)/audit")
            #expect(after.status == 200)
            #expect(after.body == before.body, "the archived drop publishes the same bundle")
            let audit = try await stack.command(["audit"])
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("1 draws recomputed"), "\(audit.output)")

            let again = try await stack.command(["admin", "archive-drop", String(dropID)])
            #expect(again.status == 0, "\(again.output)")
            #expect(again.output.contains("already archived"))

            // The audit still reads the stored bundle: breaking it is seen.
            try await stack.pool.query("UPDATE drop_rankings SET user_id = user_id + 1000000 WHERE drop_id = $1 AND position = 0", [.int(dropID)])
            let broken = try await stack.command(["audit"])
            #expect(broken.status == 1, "\(broken.output)")
            #expect(broken.output.contains("the stored ranking is not the stored audit bundle's"), "\(broken.output)")
        }
    }

    /// Archiving detaches the drop's entries, not the customers' history: `/v1/me/entries` and
    /// `/v1/drops/{id}/entries/me` answer as before, results included (issue 20).
    @Test func anArchivedDropsEntriesStayInTheCustomersListingsWithTheirResults() async throws {
        try await withShopStack { stack in
            let customers = try await stack.users(3)
            let dropID = try await DropFixtures.insertDrop(stack.pool, kind: .raffle, status: .closing, stock: 1, waitlistDepth: 1, maxTickets: 3)
            try await DropFixtures.insertEntries(stack.pool, dropID: dropID, users: customers.map(\.id), tickets: { 1 + $0 % 3 })
            try await DrawCloser.close(stack, dropID: dropID)
            let orders = try await stack.pool.query("SELECT id FROM orders WHERE drop_id = $1", [.int(dropID)]).map { try $0.int(0) }
            try await MoneyFixtures.pay(stack.pool, orders: orders)
            try await stack.startServe()

            func listed(_ token: String) async throws -> [[String: Any]] {
                let response = try await stack.call("GET", "/v1/me/entries", token: token)
                try #require(response.status == 200, "\(response.status)")
                return response.jsonObject["entries"] as? [[String: Any]] ?? []
            }
            var before: [NSDictionary] = []
            var statuses: [String] = []
            for customer in customers {
                let entries = try await listed(customer.token)
                #expect(entries.count == 1 && entries.first?["drop_id"] as? Int == dropID)
                statuses.append(entries.first?["status"] as? String ?? "")
                before.append(
                    NSDictionary(dictionary: try await stack.call("GET", "/v1/drops/\(dropID)/entries/me", token: customer.token).jsonObject))
            }
            #expect(statuses.sorted() == ["lost", "waitlisted", "won"], "one unit, a waitlist of one: \(statuses)")
            let chart = try await ConsoleFigures(pool: stack.pool).entriesOverTime(dropID: dropID)
            #expect(chart.reduce(0) { $0 + $1.count } == 3)

            let archived = try await stack.command(["admin", "archive-drop", String(dropID)])
            #expect(archived.status == 0, "\(archived.output)")
            #expect(try await stack.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0) == 0)

            for (index, customer) in customers.enumerated() {
                let entries = try await listed(customer.token)
                #expect(entries.count == 1 && entries.first?["drop_id"] as? Int == dropID, "archived entries stay listed")
                #expect(entries.first?["status"] as? String == statuses[index])
                #expect(entries.first?["tickets"] as? Int == 1 + customer.id % 3)
                let standing = try await stack.call("GET", "/v1/drops/\(dropID)/entries/me", token: customer.token)
                #expect(standing.status == 200)
                #expect(NSDictionary(dictionary: standing.jsonObject) == before[index], "the standing answers as before archiving")
            }
            // The console's entries chart reads the archived partition.
            #expect(try await ConsoleFigures(pool: stack.pool).entriesOverTime(dropID: dropID) == chart)
            // The winner's entry still shows its order.
            let winner = customers[try #require(statuses.firstIndex(of: "won"))]
            let order = try await listed(winner.token).first?["order"] as? [String: Any]
            #expect(order?["status"] as? String == "paid")
        }
    }

    @Test func aDropThatIsNotSettledCannotBeArchived() async throws {
        try await withShopStack { stack in
            let open = try await DropFixtures.insertDrop(stack.pool, kind: .draw)
            let drawn = try await DropFixtures.insertDrop(stack.pool, kind: .draw, status: .closing, stock: 1)
            let customers = try await DropFixtures.insertCustomers(stack.pool, count: 3)
            try await DropFixtures.insertEntries(stack.pool, dropID: drawn, users: customers)
            try await DrawCloser.close(stack, dropID: drawn)
            for (dropID, status) in [(open, "open"), (drawn, "drawn")] {
                let refused = try await stack.command(["admin", "archive-drop", String(dropID)])
                #expect(refused.status != 0)
                let lines = refused.output.split(separator: "\n")
                #expect(lines.count == 1 && lines[0].contains("drop \(dropID) is \(status), not settled"), "\(refused.output)")
            }
            #expect(try await stack.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(drawn)])[0].int(0) == 3)
            #expect(try await stack.pool.query("SELECT count(*) FROM drops WHERE entries_archived_at IS NOT NULL")[0].int(0) == 0)
            #expect(try await stack.command(["admin", "archive-drop", "999999"]).output.contains("there is no drop 999999"))
        }
    }
}
