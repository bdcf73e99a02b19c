import ChildProcesses
import CurlHTTP
import Foundation
import Gzip
import Postgres
import ShopDomain
import Storage
import Testing

/// A raffle at scale (issue 20): 200,000 entries with mixed tickets closed by the real close job,
/// its stored bundle served by `serve`, verified by `fastest-shop verify` and by the independent
/// `scripts/draw_reference.py`, and the stored result equal to the recomputation. (The full ten
/// million is `bench draw`'s.)
@Suite(.serialized) struct RaffleScaleTests {
    static let entrants = 200_000

    /// A fixed scramble of the user id: 1…10 tickets, every count well represented.
    static func tickets(_ user: Int) -> Int { 1 + (user &* 2_654_435_761) % 10 }

    @Test func aRaffleOf200000EntriesVerifiesWithBothVerifiersAndMatchesItsRecomputation() async throws {
        try await withShopStack { stack in
            let dropID = try await DropFixtures.insertDrop(
                stack.pool, kind: .raffle, status: .closing, stock: 500, waitlistDepth: 500, maxTickets: 10)
            let customers = try await DropFixtures.insertCustomers(stack.pool, count: Self.entrants)
            try await DropFixtures.insertEntries(stack.pool, dropID: dropID, users: customers, tickets: Self.tickets)
            try await DrawCloser.close(stack, dropID: dropID)

            // Stored once, in chunks, with the draw.
            let stored = try await stack.pool.query(
                "SELECT byte_count, chunk_count FROM audit_bundles WHERE drop_id = $1", [.int(dropID)])
            #expect(stored.count == 1)
            #expect(try stored[0].int(1) > 1, "a bundle of this size spans several chunks")

            try await stack.startServe()
            let response = try await stack.http.execute(HTTPRequest(url: stack.apiURL + "/v1/drops/\(dropID)/audit", timeoutMilliseconds: 60_000))
            #expect(response.status == 200)
            #expect(response.body.count == (try stored[0].int(0)))
            let bundle = try AuditBundle(jsonBytes: response.body)
            #expect(bundle.canonicalEntries.count == Self.entrants)
            #expect(Set((0..<1000).map { bundle.canonicalEntries.tickets(at: $0) }).count == 10, "mixed tickets")

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("raffle-\(UUID().uuidString).json")
            try Data(response.body).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let verify = try await stack.command(["verify", file.path])
            #expect(verify.status == 0, "\(verify.output)")
            #expect(verify.output.contains("verify: OK (200000 entries, 500 winners, 500 waitlisted)"), "\(verify.output)")
            #expect(!verify.output.contains("\u{1B}[2K"), "progress goes to a terminal only, never to a log")
            let reference = try await ChildProcess.run(
                executable: "/usr/bin/env", arguments: ["python3", "scripts/draw_reference.py", "--check", file.path],
                workingDirectory: ShopProcess.repositoryRoot)
            #expect(reference.status == 0, "\(reference.output) \(reference.errorOutput)")
            #expect(reference.output.contains("OK (200000 entries, 500 winners, 500 waitlisted)"))

            // The stored result (ranking, orders) is the protocol's recomputation from the bundle.
            let recomputed = try DrawProtocolV1.draw(bundle.drawInput)
            let ranking = try await stack.pool.query(
                "SELECT user_id FROM drop_rankings WHERE drop_id = $1 ORDER BY position", [.int(dropID)]
            ).map { try $0.int(0) }
            #expect(ranking == recomputed.winners + recomputed.waitlist)
            #expect(ranking.count == 1000)
            let winners = try await stack.pool.query(
                "SELECT user_id FROM orders WHERE drop_id = $1 ORDER BY user_id", [.int(dropID)]
            ).map { try $0.int(0) }
            #expect(winners == recomputed.winners.sorted())
            #expect(try await MoneyFixtures.audit(stack.pool) == [])
        }
    }

    @Test func theAuditRouteNamesItsBundleAnswers304AndCompressesForClientsThatAskForGzip() async throws {
        try await withShopStack { stack in
            let dropID = try await DropFixtures.insertDrop(stack.pool, kind: .raffle, status: .closing, stock: 3, waitlistDepth: 3, maxTickets: 5)
            let customers = try await DropFixtures.insertCustomers(stack.pool, count: 50)
            try await DropFixtures.insertEntries(stack.pool, dropID: dropID, users: customers, tickets: { 1 + $0 % 5 })
            try await DrawCloser.close(stack, dropID: dropID)
            try await stack.startServe()
            let url = stack.apiURL + "/v1/drops/\(dropID)/audit"
            func get(_ headers: [(name: String, value: String)]) async throws -> HTTPResponse {
                try await stack.http.execute(HTTPRequest(url: url, headers: headers))
            }

            let plain = try await get([])
            #expect(plain.status == 200)
            let sha256 = try await stack.pool.query("SELECT sha256 FROM audit_bundles WHERE drop_id = $1", [.int(dropID)])[0].string(0)
            #expect(plain.header("ETag") == "\"\(sha256)\"")
            #expect(plain.header("Cache-Control") == "public, max-age=31536000, immutable")
            #expect(plain.header("Content-Encoding") == nil)
            var hash = ContentHash()
            hash.update(plain.body)
            #expect(hash.finalize() == sha256, "the ETag is the SHA-256 of the bytes served")

            let revalidated = try await get([("If-None-Match", plain.header("ETag") ?? "")])
            #expect(revalidated.status == 304)
            #expect(revalidated.body.isEmpty)
            #expect(revalidated.header("ETag") == plain.header("ETag"))
            let otherTag = try await get([("If-None-Match", "\"0000\"")])
            #expect(otherTag.status == 200)

            let compressed = try await get([("Accept-Encoding", "br;q=1.0, gzip;q=0.8")])
            #expect(compressed.status == 200)
            #expect(compressed.header("Content-Encoding") == "gzip")
            #expect(compressed.header("Vary") == "Accept-Encoding")
            #expect(compressed.header("ETag") != plain.header("ETag"), "each coding has its own tag")
            #expect(try GzipDecoder.decompress(compressed.body) == plain.body)
            #expect(try await get([("Accept-Encoding", "gzip;q=0")]).header("Content-Encoding") == nil)
            #expect(try await get([("If-None-Match", compressed.header("ETag") ?? ""), ("Accept-Encoding", "gzip")]).status == 304)

            // A draw committed before bundles were stored is rebuilt, with the same bytes.
            try await stack.pool.query("DELETE FROM audit_bundle_chunks WHERE drop_id = $1", [.int(dropID)])
            try await stack.pool.query("DELETE FROM audit_bundles WHERE drop_id = $1", [.int(dropID)])
            let rebuilt = try await get([])
            #expect(rebuilt.status == 200)
            #expect(rebuilt.body == plain.body)
            #expect(rebuilt.header("ETag") == plain.header("ETag"))
            #expect(try await get([("If-None-Match", plain.header("ETag") ?? "")]).status == 304)
            #expect(try GzipDecoder.decompress(try await get([("Accept-Encoding", "gzip")]).body) == plain.body)
        }
    }
}
