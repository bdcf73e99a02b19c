import CurlHTTP
import Foundation
import Intake
import Postgres
import Settings
import ShopDomain
import Testing

@Suite struct OperationsRoutesTests {
    @Test func healthReadinessAndMetricsAnswer() async throws {
        try await withIntakeServer { server in
            let health = try await server.call("GET", "/healthz")
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "ok")
            let ready = try await server.call("GET", "/readyz")
            #expect(ready.status == 200)
            #expect(ready.json["postgres"] as? String == "up")
            let metrics = try await server.call("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.bodyText.contains(#"http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
            #expect(metrics.bodyText.contains("http_request_duration_seconds_bucket"))
            let unknown = try await server.call("GET", "/v1/nowhere")
            #expect(unknown.status == 404)
            #expect(unknown.header("Content-Type") == "application/problem+json")
        }
    }

    /// A method a path does not take is 405 with the methods it does take, as a problem; a path
    /// nothing serves stays 404.
    @Test func aMethodAPathDoesNotTakeIs405WithAllow() async throws {
        try await withIntakeServer { server in
            let delete = try await server.call("DELETE", "/v1/drops")
            #expect(delete.status == 405)
            #expect(delete.header("Allow") == "GET, POST")
            #expect(delete.header("Content-Type") == "application/problem+json")
            #expect(delete.problemSlug == "method-not-allowed")
            // A templated segment matches any id, as the router's does.
            let put = try await server.call("PUT", "/v1/drops/12345", body: "{}")
            #expect(put.status == 405)
            #expect(put.header("Allow") == "GET")
            #expect(try await server.call("TRACE", "/healthz").header("Allow") == "GET")
            #expect(try await server.call("POST", "/v1/payments/callback/extra").status == 404)
            #expect(try await server.call("DELETE", "/v1/nowhere").status == 404)
            // Routes that exist answer as before.
            #expect(try await server.call("GET", "/v1/drops/12345").problemSlug == "not-found")
        }
    }

    /// Every served route is documented, and every documented route is served.
    @Test func theOpenAPIDocumentMatchesTheRoutes() async throws {
        try await withIntakeServer { server in
            let response = try await server.call("GET", "/openapi.json")
            #expect(response.status == 200)
            // Served as checked in: Sources/Intake/OpenAPI/openapi.json is the one source.
            let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            let checkedIn = try Data(contentsOf: repository.appendingPathComponent("Sources/Intake/OpenAPI/openapi.json"))
            #expect(response.bodyText == String(decoding: checkedIn, as: UTF8.self))
            let document = response.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, item in item.keys.map { RouteSignature(method: $0, path: path) } })
            let served = Set(try server.service.makeRouter().routes)
            #expect(documented == served)
            // Every route of the contract (docs/contract.md, "HTTP API") is among them.
            let contract: [(String, String)] = [
                ("post", "/v1/auth/signup"), ("post", "/v1/auth/login"), ("post", "/v1/products"),
                ("get", "/v1/products/{id}"), ("patch", "/v1/products/{id}"), ("post", "/v1/drops"),
                ("get", "/v1/drops/{id}"), ("get", "/v1/drops/{id}/audit"), ("post", "/v1/drops/{id}/entries"),
                ("get", "/v1/drops/{id}/entries/me"), ("get", "/v1/orders/{id}"), ("post", "/v1/payments/callback"),
                ("post", "/v1/drops/{id}/purchase"),
                ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/openapi.json"),
            ]
            for (method, path) in contract {
                #expect(served.contains(RouteSignature(method: method, path: path)), "\(method) \(path) is served")
            }

            // Every documented route is reachable: none answers with the router's own not-found.
            for route in served.sorted() {
                let path = route.path.replacingOccurrences(of: "{id}", with: "1")
                let answer = try await server.call(route.method.uppercased(), path)
                #expect(answer.status != 404 || answer.json["detail"] as? String != "no such resource", "\(route)")
            }

            // Every schema a route refers to exists.
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
            let references = Set(response.bodyText.matches(of: /#\/components\/schemas\/([A-Za-z]+)/).map { String($0.1) })
            #expect(references.isSubset(of: Set(schemas.keys)))
        }
    }
}

/// `/readyz` answers from the background monitor's state: a prober never takes a pooled
/// connection, so it says ready while requests hold every connection of both pools.
@Suite struct ReadinessTests {
    @Test func readinessNeedsNoPooledConnection() async throws {
        // The smallest request pool the entry writer allows (it must leave requests one).
        let small = ["postgres.pool_size": "2", "entries.writers": "1", "postgres.public_pool_size": "1"]
        try await withIntakeServer(small) { server in
            #expect(try await server.readiness(becoming: 200) == 200)
            let sleep = "SELECT pg_sleep(30)"
            let holders = [server.pool, server.pool, server.service.publicPool].map { pool in Task { try await pool.query(sleep) } }
            // All three statements run: watched from a connection of neither pool.
            let observer = PostgresPool(configuration: server.service.settings.requestPostgresConfiguration, size: 1, name: "observer")
            let running = try await eventually {
                try await observer.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = current_database() AND query = $1 AND state = 'active'
                    """, [.text(sleep)])[0].int(0) == 3
            }
            await observer.shutdown()
            try #require(running)
            for _ in 0..<20 {
                let answer = try await server.call("GET", "/readyz")
                #expect(answer.status == 200)
                #expect(answer.json["postgres"] as? String == "up")
            }
            for holder in holders { holder.cancel() }
            for holder in holders { _ = await holder.result }
        }
    }

}
