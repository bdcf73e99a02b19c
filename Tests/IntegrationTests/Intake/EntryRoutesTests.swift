import CurlHTTP
import Foundation
import Postgres
import Settings
import ShopDomain
import Storage
import Testing

@testable import Intake

@Suite struct EntryRoutesTests {
    @Test func anEntryIsCommittedOnceAndRepeatsAreIdempotent() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop(kind: .raffle, maxTickets: 5)
            let customer = try await server.makeUser()
            let first = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token, body: #"{"tickets":3}"#)
            #expect(first.status == 201)
            #expect(first.json["tickets"] as? Int == 3)
            #expect(first.json["status"] as? String == "entered")
            let rows = try await server.pool.query(
                "SELECT tickets FROM entries WHERE drop_id = $1 AND user_id = $2", [.int(drop.id), .int(customer.id)])
            #expect(try rows[0].int(0) == 3)

            let repeated = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token, body: #"{"tickets":1}"#)
            #expect(repeated.status == 200)
            #expect(repeated.json["tickets"] as? Int == 3)
            #expect(repeated.json["created_at"] as? String == first.json["created_at"] as? String)

            let read = try await server.call("GET", "/v1/drops/\(drop.id)")
            #expect(read.json["entry_count"] as? Int == 1)
            let me = try await server.call("GET", "/v1/drops/\(drop.id)/entries/me", token: customer.token)
            #expect(me.status == 200)
            #expect(me.json["status"] as? String == "entered")
        }
    }

    @Test func ticketsFollowTheKind() async throws {
        try await withIntakeServer { server in
            let raffle = try await server.makeDrop(kind: .raffle, maxTickets: 2)
            let draw = try await server.makeDrop(kind: .draw)
            let customer = try await server.makeUser()
            let tooMany = try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token, body: #"{"tickets":3}"#)
            #expect(tooMany.status == 400)
            #expect((tooMany.json["errors"] as? [[String: String]])?.first?["field"] == "tickets")
            #expect(try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token, body: #"{"tickets":0}"#).status == 400)
            #expect(try await server.call("POST", "/v1/drops/\(draw.id)/entries", token: customer.token, body: #"{"tickets":2}"#).status == 400)
            #expect(try await server.call("POST", "/v1/drops/\(draw.id)/entries", token: customer.token, body: #"{"tickets":"one"}"#).status == 400)
            let defaulted = try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token)
            #expect(defaulted.status == 201)
            #expect(defaulted.json["tickets"] as? Int == 1)
            #expect(try await server.call("POST", "/v1/drops/\(draw.id)/entries", token: customer.token, body: "{}").status == 201)
        }
    }

    /// Entry bodies of every shape read the same, whether the common `{"tickets": N}` or
    /// anything else JSON allows; malformed ones are refused with the field named.
    @Test func entryBodiesAreReadTheSameWhateverTheirShape() async throws {
        try await withIntakeServer { server in
            let raffle = try await server.makeDrop(kind: .raffle, maxTickets: 5)
            let bodies: [(body: String, tickets: Int?)] = [
                (#"{"tickets":3}"#, 3), (" {\n \"tickets\" :\t4 } ", 4), (#"{"tickets":2,"note":"hi"}"#, 2),
                (#"{"note":[1,{"a":null}],"tickets":5}"#, 5), (#"{"tickets":null}"#, 1), ("{}", 1),
                (#"{"tickets":01}"#, nil), (#"{"tickets":1.5}"#, nil), (#"{"tickets":"2"}"#, nil), (#"{"tickets":-1}"#, nil),
                (#"{"tickets":9999999999999}"#, nil), (#"{"tickets":3"#, nil), (#"{"tickets":3}x"#, nil), ("[3]", nil),
            ]
            let customers = try await server.makeUsers(bodies.count)
            for ((body, tickets), customer) in zip(bodies, customers) {
                let response = try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token, body: body)
                if let tickets {
                    #expect(response.status == 201, "\(body): \(response.bodyText)")
                    #expect(response.json["tickets"] as? Int == tickets, "\(body)")
                } else {
                    #expect(response.status == 400, "\(body): \(response.bodyText)")
                    #expect(response.problemSlug == "invalid-request", "\(body)")
                }
            }
        }
    }

    /// The entry answer written by hand is the document JSONEncoder writes for the same entry
    /// (the customer's standing, before the draw, goes through JSONEncoder): same keys, same
    /// values. (Not the same bytes: JSONEncoder's key order is its own.)
    @Test func theEntryAnswerIsTheSameDocumentAsTheStanding() async throws {
        try await withIntakeServer { server in
            let raffle = try await server.makeDrop(kind: .raffle, maxTickets: 5)
            let customer = try await server.makeUser()
            let created = try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token, body: #"{"tickets":4}"#)
            #expect(created.status == 201)
            #expect(created.header("Content-Type") == "application/json")
            let repeated = try await server.call("POST", "/v1/drops/\(raffle.id)/entries", token: customer.token, body: #"{"tickets":4}"#)
            let standing = try await server.call("GET", "/v1/drops/\(raffle.id)/entries/me", token: customer.token)
            #expect(standing.status == 200)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(standing.body)) as? NSDictionary)
            #expect(document.count == 5)
            #expect(try JSONSerialization.jsonObject(with: Data(created.body)) as? NSDictionary == document)
            #expect(try JSONSerialization.jsonObject(with: Data(repeated.body)) as? NSDictionary == document)
            #expect(created.json["status"] as? String == "entered")
            #expect(created.json["user_id"] as? Int == customer.id)
        }
    }

    @Test func entriesOutsideTheWindowAreRefused() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeUser()
            let scheduled = try await server.makeDrop(opensAt: Date().addingTimeInterval(3600), closesAt: Date().addingTimeInterval(7200))
            #expect(scheduled.status == .scheduled)
            let early = try await server.call("POST", "/v1/drops/\(scheduled.id)/entries", token: customer.token)
            #expect(early.status == 409)
            #expect(early.problemSlug == "not-open")

            // Past closes_at but not yet moved by the scheduler: the window alone refuses it.
            let lapsed = try await server.makeDrop()
            try await server.pool.query(
                "UPDATE drops SET opens_at = now() - interval '2 hours', closes_at = now() - interval '1 second' WHERE id = $1",
                [.int(lapsed.id)])
            #expect(try await server.call("POST", "/v1/drops/\(lapsed.id)/entries", token: customer.token).problemSlug == "not-open")

            // Frozen by the scheduler.
            let closing = try await server.makeDrop()
            #expect(try await DropStore(pool: server.pool).move(dropID: closing.id, from: .open, to: .closing, kind: .draw))
            #expect(try await server.call("POST", "/v1/drops/\(closing.id)/entries", token: customer.token).problemSlug == "not-open")

            let openRun = try await server.makeDrop(kind: .openRun, closesAt: nil)
            #expect(try await server.call("POST", "/v1/drops/\(openRun.id)/entries", token: customer.token).problemSlug == "not-open")

            #expect(try await server.call("POST", "/v1/drops/999999/entries", token: customer.token).problemSlug == "not-found")
            let count = try await server.pool.query("SELECT count(*) FROM entries")
            #expect(try count[0].int(0) == 0)
        }
    }

    @Test func anEarlierEntryIsStillAnsweredAfterTheFreeze() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop()
            let customer = try await server.makeUser()
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status == 201)
            #expect(try await DropStore(pool: server.pool).move(dropID: drop.id, from: .open, to: .closing, kind: .draw))
            #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status == 200)
        }
    }

    @Test func standingAfterTheDrawComesFromTheRanking() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop(stock: 1)
            let customers = try await server.makeUsers(4)
            for customer in customers {
                #expect(try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status == 201)
            }
            let outsider = try await server.makeUser()
            #expect(try await server.call("GET", "/v1/drops/\(drop.id)/entries/me", token: outsider.token).status == 404)

            // Ranking: customer 0 won (position 0 < stock), 1 was promoted from the waitlist
            // (has an order), 2 waits, 3 was not ranked.
            try await server.pool.transaction { connection in
                _ = try DropStore.move(dropID: drop.id, from: .open, to: .closing, kind: .draw, on: connection)
                try connection.query(
                    "UPDATE drops SET entries_digest = repeat('0', 64), drawn_at = now() WHERE id = $1", [.int(drop.id)])
                _ = try DropStore.move(dropID: drop.id, from: .closing, to: .drawn, kind: .draw, on: connection)
                let order = try connection.query(
                    """
                    INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                    VALUES ($1, $2, 12000, 'EUR', $3, now() + interval '15 minutes') RETURNING id
                    """,
                    [.int(drop.id), .int(customers[1].id), .text(UUID().uuidString)])[0].int(0)
                try connection.query(
                    """
                    INSERT INTO drop_rankings (drop_id, position, user_id, order_id)
                    VALUES ($1, 0, $2, NULL), ($1, 1, $3, $5), ($1, 2, $4, NULL)
                    """,
                    [.int(drop.id), .int(customers[0].id), .int(customers[1].id), .int(customers[2].id), .int(order)])
            }
            func status(_ index: Int) async throws -> [String: Any] {
                try await server.call("GET", "/v1/drops/\(drop.id)/entries/me", token: customers[index].token).json
            }
            #expect(try await status(0)["status"] as? String == "won")
            let promoted = try await status(1)
            #expect(promoted["status"] as? String == "won")
            #expect((promoted["order"] as? [String: Any])?["status"] as? String == "pending_payment")
            #expect(promoted["position"] as? Int == 1)
            #expect(try await status(2)["status"] as? String == "waitlisted")
            #expect(try await status(3)["status"] as? String == "lost")
        }
    }

    @Test func aThousandConcurrentEntriesAreAllCommitted() async throws {
        try await withIntakeServer(["entries.max_batch": "200"]) { server in
            let drop = try await server.makeDrop(stock: 100)
            let customers = try await server.makeUsers(1000)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for customer in customers {
                    group.addTask { try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customer.token).status }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(statuses == [201: 1000])
            let rows = try await server.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(drop.id)])
            #expect(try rows[0].int(0) == 1000)
            #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["entry_count"] as? Int == 1000)
            // Every request went through a batch, and requests were coalesced: fewer
            // transactions than entries.
            #expect(try await server.metric("intake_entry_batch_size_sum") == 1000)
            #expect(try await server.metric("intake_entry_batch_size_count") < 1000)
        }
    }

    /// After graceful shutdown has closed the entry writer (it committed what was queued), an
    /// entry still arriving gets 503 with Retry-After, not an error of its own or a hang.
    @Test func anEntryAfterTheWriterClosedGets503() async throws {
        try await withIntakeServer { server in
            let drop = try await server.makeDrop()
            let customers = try await server.makeUsers(1)
            await server.service.entryWriter.shutdown()
            let refused = try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: customers[0].token)
            #expect(refused.status == 503 && refused.problemSlug == "unavailable")
            #expect(refused.json["detail"] as? String == "the service is shutting down")
            #expect(refused.header("Retry-After") != nil)
        }
    }

    /// A batch that PostgreSQL refuses because of one request is split until that request stands
    /// alone: it gets its error, every other request in the batch is committed and gets its 201.
    @Test func oneBadRequestInABatchFailsAloneAndTheRestAreCommitted() async throws {
        try await withIntakeServer(["entries.max_batch": "500"]) { server in
            let drop = try await server.makeDrop(stock: 10)
            let customers = try await server.makeUsers(300)
            // Signed with the server's key, so it verifies, but it names no account: its insert
            // violates the entries → users foreign key and fails the whole statement of its batch.
            let ghost = try await server.service.tokens.issue(for: AuthenticatedUser(id: 987_654_321, role: .customer))
            let tokens = Array(customers.prefix(150).map(\.token)) + [ghost] + customers.suffix(150).map(\.token)
            let statuses = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for token in tokens {
                    group.addTask { (token, try await server.call("POST", "/v1/drops/\(drop.id)/entries", token: token).status) }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(statuses[ghost] == 401)
            #expect(customers.allSatisfy { statuses[$0.token] == 201 }, "\(Set(statuses.values))")
            let rows = try await server.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(drop.id)])
            #expect(try rows[0].int(0) == 300)
            #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["entry_count"] as? Int == 300)
        }
    }
}
