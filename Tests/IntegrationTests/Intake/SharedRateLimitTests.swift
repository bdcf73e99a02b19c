import CurlHTTP
import Foundation
import Intake
import LocalServices
import Postgres
import Settings
import ShopDomain
import Storage
import Testing

/// Per-address and per-customer limits are kept in Redis (issue 16): two `serve` instances
/// enforce one limit, and with Redis down each instance still limits with its own buckets.
@Suite struct SharedRateLimitTests {
    @Test func twoInstancesShareOneCustomersPurchaseLimit() async throws {
        // Four requests, then one every 100 s: the test never sees a refill.
        try await AuthAttemptLimitTests.withTwoInstances(["limits.customer_per_s": "0.01", "limits.customer_burst": "4"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            let openRun = try await DropFixtures.insertDrop(one.pool, kind: .openRun, stock: 10, closesIn: nil)
            let customer = try await one.makeUser()
            var statuses: [Int] = []
            for attempt in 0..<8 {
                let server = attempt % 2 == 0 ? one : two
                statuses.append(try await server.call("POST", "/v1/drops/\(openRun)/purchase", token: customer.token).status)
            }
            // One purchase and three refusals of a second one, through either instance; then
            // both refuse: four requests in all, not four per instance.
            #expect(statuses == [201, 409, 409, 409, 429, 429, 429, 429], "\(statuses)")
            let orders = try await one.pool.query("SELECT count(*) FROM orders WHERE drop_id = $1", [.int(openRun)])
            #expect(try orders[0].int(0) == 1)
            // Another customer has a bucket of their own.
            let other = try await two.makeUser()
            #expect(try await two.call("POST", "/v1/drops/\(openRun)/purchase", token: other.token).status == 201)
        }
    }

    @Test func twoInstancesShareOneAddressLimit() async throws {
        try await AuthAttemptLimitTests.withTwoInstances(["limits.ip_per_s": "0.01", "limits.ip_burst": "6"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            var statuses: [Int] = []
            for attempt in 0..<10 {
                statuses.append(try await (attempt % 2 == 0 ? one : two).call("GET", "/v1/products/999999").status)
            }
            #expect(statuses == [404, 404, 404, 404, 404, 404, 429, 429, 429, 429], "\(statuses)")
            let limited = try await one.call("GET", "/v1/products/999999")
            #expect(limited.header("Retry-After").flatMap(Int.init).map { $0 >= 1 } == true)
        }
    }

    /// A busy address's tokens are taken ahead in leases and its refusals remembered by each
    /// instance (``TokenLeases``); neither lets the two instances together admit more than the
    /// one shared bucket: its burst plus its rate over the time the requests took.
    @Test func leasesNeverAdmitMoreThanTheSharedBucket() async throws {
        // 40/s with a burst of 160: leases of 2 tokens, and a rate low enough that the bound
        // stays well under the requests sent however slowly the machine answers them.
        try await AuthAttemptLimitTests.withTwoInstances(["limits.ip_per_s": "40", "limits.ip_burst": "160"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            let requests = 800
            let started = ContinuousClock.now
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for lane in 0..<16 {
                    group.addTask {
                        var statuses: [Int] = []
                        for request in stride(from: lane, to: requests, by: 16) {
                            statuses.append(try await (request % 2 == 0 ? one : two).call("GET", "/v1/products/999999").status)
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let elapsed = ContinuousClock.now - started
            let admitted = statuses.count { $0 == 404 }
            let refused = statuses.count { $0 == 429 }
            #expect(admitted + refused == requests, "other statuses: \(Set(statuses))")
            let bound = 160 + Int((40 * (elapsed / .seconds(1))).rounded(.up))
            #expect(admitted <= bound, "\(admitted) admitted in \(elapsed), the shared bucket allows \(bound)")
            #expect(admitted >= 120, "most of the burst was admitted: \(admitted)")
            #expect(refused > 0 || admitted == requests)
            print("leases: \(admitted) admitted, \(refused) refused in \(elapsed) (bound \(bound))")
        }
    }

    /// Hundreds of requests from one address at once, well within its burst, are all admitted:
    /// concurrent requests that find no lease ask for their own token while one lease is on its
    /// way, so the crowd cannot drain the shared bucket into leases and then be refused by it
    /// (the demo's open-run rush from one address got 429s that way).
    @Test func aConcurrentCrowdWithinTheBurstIsNeverRefused() async throws {
        try await AuthAttemptLimitTests.withTwoInstances(["limits.ip_per_s": "2000", "limits.ip_burst": "4000"]) {
            (one: IntakeTestServer, two: IntakeTestServer) async throws in
            for round in 0..<3 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for request in 0..<300 {
                        group.addTask { try await (request % 2 == 0 ? one : two).call("GET", "/v1/products/999999").status }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == 404 }, "round \(round): \(statuses.reduce(into: [:]) { $0[$1, default: 0] += 1 })")
            }
        }
    }

    /// Redis stops under a running server: routes that need only PostgreSQL keep answering, and
    /// the customer limit still holds, counted by the instance itself.
    @Test func withRedisDownEachInstanceLimitsByItself() async throws {
        try await withScratchServices { scratch in
            let migrationPool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "limits-migrate")
            try await Migrator().migrate(migrationPool)
            await migrationPool.shutdown()
            let settings = try await IntakeTestServer.settings(
                postgres: scratch.postgresConfiguration, redis: scratch.redisConfiguration, keyPrefix: "limits:",
                overrides: ["limits.customer_per_s": "0.01", "limits.customer_burst": "3"])
            try await runIntakeServer(settings: settings) { server in
                let customers = try await server.makeUsers(2)
                #expect(try await server.call("GET", "/v1/me/orders", token: customers[0].token).status == 200)

                try scratch.services.stopOnly(.redis)
                var statuses: [Int] = []
                for _ in 0..<5 { statuses.append(try await server.call("GET", "/v1/me/orders", token: customers[1].token).status) }
                #expect(statuses == [200, 200, 200, 429, 429], "\(statuses)")
                _ = try scratch.services.start()
            }
        }
    }
}
