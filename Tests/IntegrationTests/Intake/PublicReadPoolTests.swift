import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Storage
import Synchronization
import Testing

/// Expensive public reads cannot take the API down (issue 16): audit bundles are read through
/// serve's small public-read pool, whose waits end in 503 with Retry-After after the acquire
/// timeout, so entries keep flowing however many downloads arrive.
@Suite struct PublicReadPoolTests {
    /// The figures: 50 concurrent downloads of a 100,000-entry bundle.
    static let entrants = 100_000
    static let downloads = 50
    static let customers = 100
    static let openDrops = 4

    @Test func auditDownloadsNeitherStarveEntriesNorWaitPastThePoolTimeout() async throws {
        // One public connection and a short acquire timeout: the downloads queue for it and the
        // ones that wait past a second are refused, whatever this machine's speed. (The request
        // pool: 3 for requests and the 2 entry writers' batches.)
        try await withIntakeServer([
            "postgres.pool_size": "5", "postgres.public_pool_size": "1", "postgres.acquire_timeout_ms": "1000",
            "limits.customer_per_s": "1000", "limits.customer_burst": "1000",
        ]) { server in
            let drawn = try await Self.drawnDrop(server.pool, entrants: Self.entrants)
            var openDrops: [Int] = []
            for _ in 0..<Self.openDrops { openDrops.append(try await DropFixtures.insertDrop(server.pool, kind: .draw)) }
            let open = openDrops
            let customers = try await server.makeUsers(Self.customers)
            let http = CurlHTTPClient(name: "audit-downloads", maxIdleConnections: Self.downloads + Self.customers)
            defer { http.shutdown() }

            async let downloads = withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for _ in 0..<Self.downloads {
                    group.addTask {
                        try await http.execute(
                            HTTPRequest(
                                method: "GET", url: server.baseURL + "/v1/drops/\(drawn)/audit", headers: [], body: [],
                                timeoutMilliseconds: 120_000))
                    }
                }
                var answers: [HTTPResponse] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            // Entries while the downloads run: every customer enters every open drop.
            async let entries = withThrowingTaskGroup(of: [Int].self) { group in
                for customer in customers {
                    group.addTask {
                        var statuses: [Int] = []
                        for drop in open {
                            let answer = try await http.execute(
                                HTTPRequest(
                                    method: "POST", url: server.baseURL + "/v1/drops/\(drop)/entries",
                                    headers: [
                                        (name: "Authorization", value: "Bearer \(customer.token)"), (name: "Content-Type", value: "application/json"),
                                    ],
                                    body: Array("{}".utf8), timeoutMilliseconds: 120_000))
                            statuses.append(answer.status)
                        }
                        return statuses
                    }
                }
                var answers: [Int] = []
                for try await statuses in group { answers += statuses }
                return answers
            }
            let (downloaded, entered) = try await (downloads, entries)

            // Every entry was acknowledged, and every acknowledged entry is committed.
            #expect(entered.count == Self.customers * Self.openDrops)
            #expect(entered.allSatisfy { $0 == 201 }, "\(Dictionary(grouping: entered, by: { $0 }).mapValues(\.count))")
            let committed = try await server.pool.query(
                "SELECT count(*) FROM entries WHERE drop_id = ANY($1::bigint[])", [.intArray(open)])[0].int(0)
            #expect(committed == Self.customers * Self.openDrops)

            // Each download got the bundle or a refusal to retry; none an error or an endless wait.
            let bundles = downloaded.filter { $0.status == 200 }
            let refused = downloaded.filter { $0.status == 503 }
            #expect(bundles.count + refused.count == Self.downloads, "\(downloaded.map(\.status))")
            #expect(!bundles.isEmpty)
            #expect(refused.allSatisfy { $0.header("Retry-After") != nil && $0.problemSlug == "unavailable" })
            let first = try #require(bundles.first)
            #expect(bundles.allSatisfy { $0.body == first.body })
            let bundle = try AuditBundle(jsonBytes: first.body)
            #expect(bundle.entries.count == Self.entrants)
        }
    }

    /// A draw of `entrants` entries, closed and drawn through the close job's own commit.
    static func drawnDrop(_ pool: PostgresPool, entrants: Int) async throws -> Int {
        let dropID = try await DropFixtures.insertDrop(pool, kind: .draw, status: .closing, stock: 10, closesIn: -1, waitlistDepth: 10)
        let users = try await DropFixtures.insertCustomers(pool, count: entrants)
        try await DropFixtures.insertEntries(pool, dropID: dropID, users: users)
        // Drawn as the close job draws: the bundle stored with the result, served as stored.
        try await MoneyFixtures.draw(pool, dropID: dropID)
        return dropID
    }
}
