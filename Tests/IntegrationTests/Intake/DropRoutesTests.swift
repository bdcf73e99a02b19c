import CurlHTTP
import Foundation
import Postgres
import Settings
import ShopDomain
import Storage
import Testing
import TextEncodings

@Suite struct DropRoutesTests {
    @Test func createdDrawPublishesItsCommitmentButNotItsSeed() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let product = try await server.makeProduct()
            let opensAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down) + 0.25)
            let opens = Timestamp.milliseconds(opensAt)
            let closes = Timestamp.string(Date().addingTimeInterval(7200))
            let response = try await server.call(
                "POST", "/v1/drops", token: operatorUser.token,
                body: #"{"product_id":\#(product.id),"kind":"draw","stock":3,"opens_at":"\#(opens)","closes_at":"\#(closes)"}"#)
            #expect(response.status == 201)
            let id = try #require(response.json["id"] as? Int)
            #expect(response.json["status"] as? String == "scheduled")
            #expect(response.json["kind"] as? String == "draw")
            #expect(response.json["seed"] == nil)
            #expect(response.json["waitlist_depth"] as? Int == 3)
            let commitment = try #require(response.json["commitment"] as? String)

            let seed = try await server.pool.query("SELECT seed FROM drops WHERE id = $1", [.int(id)])[0].byteArray(0)
            #expect(seed.count == 32)
            #expect(DrawProtocolV1.commitment(seed: seed) == commitment)

            let read = try await server.call("GET", "/v1/drops/\(id)")
            #expect(read.status == 200)
            #expect(read.json["commitment"] as? String == commitment)
            #expect(read.json["seed"] == nil)
            #expect(read.json["stock"] as? Int == 3)
            #expect(read.json["available"] as? Int == 3)
            #expect(read.json["held"] as? Int == 0)
            #expect(read.json["sold"] as? Int == 0)
            #expect(read.json["entry_count"] as? Int == 0)
            // RFC 3339 in UTC with milliseconds.
            let createdAt = try #require(read.json["created_at"] as? String)
            #expect(createdAt.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
            #expect(read.json["opens_at"] as? String == Timestamp.milliseconds(opensAt))

            #expect(try await server.call("GET", "/v1/drops/999999").problemSlug == "not-found")
            #expect(try await server.call("GET", "/v1/drops/x").status == 404)
        }
    }

    /// RFC 3339 as JSON Schema's date-time reads it: `t` and `z` in lower case are the same time;
    /// a time before 1970 is refused (it was a 500: PostgreSQL has no year 0), and so is an offset
    /// past 18 hours (Foundation's limit, stated in the OpenAPI document's pattern), and so is
    /// anything after the time (Foundation read the timestamp and ignored the rest).
    @Test func dropTimestampsAreReadAsTheDocumentStates() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let product = try await server.makeProduct()
            func create(opensAt: String) async throws -> HTTPResponse {
                try await server.call(
                    "POST", "/v1/drops", token: operatorUser.token,
                    body: #"{"product_id":\#(product.id),"kind":"open_run","stock":1,"opens_at":"\#(opensAt)"}"#)
            }
            let lower = try await create(opensAt: "2031-01-02t03:04:05z")
            #expect(lower.status == 201)
            #expect(lower.json["opens_at"] as? String == "2031-01-02T03:04:05.000Z")
            #expect(try await create(opensAt: "2031-01-02T03:04:05+18:00").status == 201)
            for refused in ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2031-01-02T03:04:05+18:01", "2031-01-02T03:04:05Z*"] {
                let answer = try await create(opensAt: refused)
                #expect(answer.status == 400, "\(refused)")
                #expect(answer.problemSlug == "invalid-request", "\(refused)")
            }
        }
    }

    @Test func aDropWhoseOpeningHasPassedStartsOpen() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let product = try await server.makeProduct()
            let opens = Timestamp.string(Date().addingTimeInterval(-60))
            let response = try await server.call(
                "POST", "/v1/drops", token: operatorUser.token,
                body: #"{"product_id":\#(product.id),"kind":"open_run","stock":5,"opens_at":"\#(opens)"}"#)
            #expect(response.status == 201)
            #expect(response.json["status"] as? String == "open")
            #expect(response.json["commitment"] == nil)
        }
    }

    @Test func invalidDropsAreRefusedFieldByField() async throws {
        try await withIntakeServer { server in
            let operatorUser = try await server.makeUser(role: .operator)
            let product = try await server.makeProduct()
            func problem(_ body: String) async throws -> [String] {
                let response = try await server.call("POST", "/v1/drops", token: operatorUser.token, body: body)
                #expect(response.status == 400)
                #expect(response.problemSlug == "invalid-request")
                return (response.json["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
            }
            let later = Timestamp.string(Date().addingTimeInterval(3600))
            let earlier = Timestamp.string(Date().addingTimeInterval(60))
            #expect(
                try await problem(#"{"kind":"lottery","stock":0,"opens_at":"tomorrow"}"#)
                    == ["kind", "opens_at", "product_id", "stock"])
            #expect(try await problem(#"{"product_id":\#(product.id),"kind":"draw","stock":1,"opens_at":"\#(earlier)"}"#) == ["closes_at"])
            #expect(
                try await problem(#"{"product_id":\#(product.id),"kind":"draw","stock":1,"opens_at":"\#(later)","closes_at":"\#(earlier)"}"#)
                    == ["closes_at"])
            #expect(
                try await problem(#"{"product_id":\#(product.id),"kind":"raffle","stock":1,"opens_at":"\#(earlier)","closes_at":"\#(later)"}"#)
                    == ["max_tickets"])
            #expect(
                try await problem(
                    #"{"product_id":\#(product.id),"kind":"draw","stock":1,"opens_at":"\#(earlier)","closes_at":"\#(later)","max_tickets":3}"#)
                    == ["max_tickets"])
            #expect(
                try await problem(#"{"product_id":999999,"kind":"draw","stock":1,"opens_at":"\#(earlier)","closes_at":"\#(later)"}"#)
                    == ["product_id"])
            #expect(try await problem(#"{"product_id":"one","kind":"draw"}"#) == ["product_id"])
        }
    }

    @Test func operatorsListDropsPageByPage() async throws {
        try await withIntakeServer { server in
            let first = try await server.makeDrop()
            let second = try await server.makeDrop(kind: .raffle)
            let operatorUser = try await server.makeUser(role: .operator)
            let page = try await server.call("GET", "/v1/drops?limit=1", token: operatorUser.token)
            #expect(page.status == 200)
            let drops = page.json["drops"] as? [[String: Any]] ?? []
            #expect(drops.compactMap { $0["id"] as? Int } == [first.id])
            #expect(page.json["next_after"] as? Int == first.id)
            let next = try await server.call("GET", "/v1/drops?limit=1&after=\(first.id)", token: operatorUser.token)
            #expect((next.json["drops"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int } == [second.id])
            let raffles = try await server.call("GET", "/v1/drops?status=open", token: operatorUser.token)
            #expect((raffles.json["drops"] as? [[String: Any]] ?? []).count == 2)
            #expect(try await server.call("GET", "/v1/drops?limit=0", token: operatorUser.token).status == 400)
            #expect(try await server.call("GET", "/v1/drops?status=gone", token: operatorUser.token).status == 400)
        }
    }

    @Test func theSeedIsRevealedOnlyAfterTheDraw() async throws {
        // The drop is moved in PostgreSQL directly (no published write): no local cache, so the
        // second read is not the first one's copy.
        try await withIntakeServer(["cache.local_entries": "0"]) { server in
            let drop = try await server.makeDrop()
            let store = DropStore(pool: server.pool)
            #expect(try await store.move(dropID: drop.id, from: .open, to: .closing, kind: .draw))
            #expect(try await server.call("GET", "/v1/drops/\(drop.id)").json["seed"] == nil)
            // Moves the state machine forbids are refused before any SQL runs.
            await #expect(throws: InvalidDropTransition.self) {
                try await store.move(dropID: drop.id, from: .closing, to: .open, kind: .draw)
            }
            // A move from a status the drop is no longer in changes nothing.
            #expect(try await store.move(dropID: drop.id, from: .open, to: .closing, kind: .draw) == false)

            let digest = String(repeating: "ab", count: 32)
            try await server.pool.query(
                "UPDATE drops SET entries_digest = $2, drawn_at = now() WHERE id = $1", [.int(drop.id), .text(digest)])
            #expect(try await store.move(dropID: drop.id, from: .closing, to: .drawn, kind: .draw))
            let read = try await server.call("GET", "/v1/drops/\(drop.id)")
            let seed = try await server.pool.query("SELECT seed FROM drops WHERE id = $1", [.int(drop.id)])[0].byteArray(0)
            #expect(read.json["status"] as? String == "drawn")
            #expect(read.json["seed"] as? String == seed.lowercaseHex)
            #expect(read.json["entries_digest"] as? String == digest)
        }
    }
}

enum Timestamp {
    static func string(_ date: Date) -> String { date.formatted(.iso8601) }
    static func milliseconds(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
