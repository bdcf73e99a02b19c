import CurlHTTP
import Foundation
import JobQueue
import Postgres
import ShopDomain
import ShopJobs
import Testing

/// The Grafana dashboard (docs/grafana/fastest-shop.json) against a real deployment: after a
/// small draw and an open-run through `serve`, a worker, the scheduler and `mock-payments`,
/// every metric a panel queries is exposed by one of their `/metrics`, and the business figures
/// agree with what the test did and with PostgreSQL.
@Suite struct MetricsDashboardTests {
    static let dashboardPath = ShopProcess.repositoryRoot + "/docs/grafana/fastest-shop.json"

    @Test func everyMetricTheDashboardQueriesIsExposedWithThePlatformsFigures() async throws {
        let workerPort = try ClosedPort.free()
        let schedulerPort = try ClosedPort.free()
        try await withShopStack(settings: [
            "payments.window_s": "20", "metrics.sample_ms": "200",
            "worker.metrics_port": String(workerPort), "scheduler.metrics_port": String(schedulerPort),
        ]) { stack in
            try await stack.startServe()
            // Half declined (units released and offered again), some pending (settled by callback),
            // no errors or timeouts: every charge request then has exactly one answer.
            try await stack.startMockPayments([
                "--decline-rate", "0.5", "--error-rate", "0", "--timeout-rate", "0", "--pending-rate", "0.2",
                "--pending-success-rate", "1", "--callback-delay-ms", "100", "--duplicate-callback-rate", "0",
                "--late-success-rate", "0",
            ])
            try stack.startScheduler()

            // A draw of 3 units for 8 entrants; one of them enters twice (the same entry).
            let draw = try await DrawEndToEndTests.createDrop(stack, kind: .draw, stock: 3, waitlistDepth: 5)
            let customers = try await stack.users(8)
            try await DrawEndToEndTests.enter(stack, dropID: draw, customers: customers)
            let repeated = try await stack.call("POST", "/v1/drops/\(draw)/entries", token: customers[0].token, body: "{}")
            #expect(repeated.status == 200)
            // An open-run of 2 units: five buyers one after another, the first of them twice.
            let openRun = try await DropFixtures.insertDrop(stack.pool, kind: .openRun, stock: 2, closesIn: nil)
            var statuses: [Int] = []
            for token in [customers[0].token, customers[0].token] + customers[1..<5].map(\.token) {
                statuses.append(try await stack.call("POST", "/v1/drops/\(openRun)/purchase", token: token).status)
            }
            #expect(statuses == [201, 409, 201, 409, 409, 409], "\(statuses)")
            // The worker starts only now, so no declined charge has put a unit back on sale
            // while the buyers above were answered.
            try stack.startWorker()
            try await DrawEndToEndTests.closeNow(stack, [draw])

            try await eventually(timeout: 90, "the draw settled and no order waits for its payment") {
                let pending = try await stack.pool.query("SELECT count(*) FROM orders WHERE status = 'pending_payment'")[0].int(0)
                return try await DrawEndToEndTests.dropRow(stack.pool, draw).status == "settled" && pending == 0
            }

            let http = CurlHTTPClient(name: "metrics-scrape")
            defer { http.shutdown() }
            func scrape(_ url: String) async throws -> PrometheusExposition {
                let response = try await http.execute(HTTPRequest(url: url))
                #expect(response.status == 200, "\(url)")
                return PrometheusExposition(response.bodyText)
            }
            // A charge job for an order that does not exist fails for good: one dead job.
            let queue = JobQueue(
                redis: stack.redis, catalog: try JobCatalog.load(directory: stack.catalogDirectory),
                keyPrefix: JobQueue.keyPrefix(deployment: stack.redisPrefix))
            #expect(try await queue.enqueue([ShopJob.chargeOrder(orderID: 999_999_999)]) == 1)
            try await eventually("the job died") { try await queue.depths().dead == 1 }

            // The sampled gauges follow PostgreSQL and Redis within a few samples.
            var orders: [String: Int] = [:]
            for row in try await stack.pool.query("SELECT status, count(*) FROM orders GROUP BY status") {
                orders[try row.string(0)] = try row.int(1)
            }
            try await eventually("serve's sampled gauges show the orders by status \(orders), one live worker and one dead job") {
                let serve = try await scrape(stack.apiURL + "/metrics")
                return OrderStatus.allCases.allSatisfy {
                    serve.value("fastest_orders", ["status": $0.rawValue]) == Double(orders[$0.rawValue] ?? 0)
                } && serve.value("fastest_workers_alive") == 1 && serve.value("fastest_dead_jobs") == 1
            }
            let serve = try await scrape(stack.apiURL + "/metrics")
            let worker = try await scrape("http://127.0.0.1:\(workerPort)/metrics")
            let scheduler = try await scrape("http://127.0.0.1:\(schedulerPort)/metrics")

            // Every metric the dashboard queries is exposed by serve, the worker or the scheduler.
            let dashboard = try Data(contentsOf: URL(fileURLWithPath: Self.dashboardPath))
            let queried = try DashboardMetrics.names(dashboard: dashboard)
            #expect(queried.count >= 15, "\(queried.sorted())")
            #expect(try DashboardMetrics.missing(dashboard: dashboard, expositions: [serve, worker, scheduler]) == [])

            // The figures are the platform's: what the test did, what PostgreSQL holds.
            #expect(serve.value("fastest_entries_accepted_total") == 8)
            #expect(serve.value("fastest_purchases_total", ["result": "admitted"]) == 2)
            #expect(serve.value("fastest_purchases_total", ["result": "already_purchased"]) == 1)
            #expect(serve.value("fastest_purchases_total", ["result": "sold_out"]) == 3)
            #expect(serve.value("fastest_purchases_total", ["result": "not_open"]) == 0)
            let attempts = try await stack.pool.query("SELECT count(*) FROM charge_attempts")[0].int(0)
            #expect(attempts >= 5, "at least the draw's 3 winners and the open-run's 2 buyers were charged")
            #expect(worker.value("fastest_charges_total") == Double(attempts))
            #expect(worker.value("fastest_payment_provider_latency_seconds_count") == Double(attempts))
            for outcome in ["succeeded", "failed", "pending", "retryable"] {
                let count = try await stack.pool.query(
                    "SELECT count(*) FROM charge_attempts WHERE outcome = $1", [.text(outcome)])[0].int(0)
                #expect(worker.value("fastest_charges_total", ["outcome": outcome]) == Double(count), "\(outcome)")
            }
            let callbacks = try await stack.pool.query("SELECT count(*) FROM payment_events WHERE type LIKE 'charge.%'")[0].int(0)
            #expect(serve.value("fastest_payment_callbacks_total") == Double(callbacks))
            #expect(serve.value("fastest_dead_jobs") == 1)
            #expect(worker.value("fastest_jobs_dead_total", ["kind": "order.charge"]) == 1)
            #expect(serve.value("fastest_queue_ready_jobs", ["queue": "payments"]) != nil)
            #expect(scheduler.value("fastest_scheduler_leader") == 1)

            // The checker can fail: a copy of the dashboard that queries a metric nobody exposes,
            // and one whose entries panel misspells its metric, are reported.
            let bogus = try Self.dashboard(dashboard, addingExpression: "sum(rate(fastest_bogus_orders_total{status=\"paid\"}[5m]))")
            #expect(try DashboardMetrics.missing(dashboard: bogus, expositions: [serve, worker, scheduler]) == ["fastest_bogus_orders_total"])
            let misspelt = Data(
                String(decoding: dashboard, as: UTF8.self)
                    .replacingOccurrences(of: "fastest_entries_accepted_total", with: "fastest_entries_accepted").utf8)
            #expect(try DashboardMetrics.missing(dashboard: misspelt, expositions: [serve, worker, scheduler]) == ["fastest_entries_accepted"])
            // Without the worker's scrape, the payment panels' metrics are missing.
            let withoutWorker = try DashboardMetrics.missing(dashboard: dashboard, expositions: [serve, scheduler])
            #expect(
                withoutWorker.contains("fastest_charges_total") && withoutWorker.contains("fastest_payment_provider_latency_seconds_bucket"),
                "\(withoutWorker)")
        }
    }

    /// The PromQL reader finds metric names, not functions, labels, ranges or keywords.
    @Test func metricNamesAreReadFromPromQL() {
        #expect(
            DashboardMetrics.metricNames(
                promQL:
                    #"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!="/metrics"}[$__rate_interval])))"#
            )
                == ["http_request_duration_seconds_bucket"])
        #expect(
            DashboardMetrics.metricNames(promQL: "max by (status) (fastest_orders) / ignoring(status) group_left sum(fastest_x offset 5m)")
                == ["fastest_orders", "fastest_x"])
        #expect(
            DashboardMetrics.metricNames(promQL: "sum(increase(fastest_scheduler_rescued_jobs_total[1m])) * 1e3") == [
                "fastest_scheduler_rescued_jobs_total"
            ])
    }

    /// A copy of `dashboard` with one more panel querying `expression`.
    static func dashboard(_ dashboard: Data, addingExpression expression: String) throws -> Data {
        var document = try #require(try JSONSerialization.jsonObject(with: dashboard) as? [String: Any])
        var panels = document["panels"] as? [[String: Any]] ?? []
        panels.append(["type": "timeseries", "title": "bogus", "targets": [["refId": "A", "expr": expression]]])
        document["panels"] = panels
        return try JSONSerialization.data(withJSONObject: document)
    }
}
