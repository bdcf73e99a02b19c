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

    /// Every served route is documented, and every documented route is served.
    @Test func theOpenAPIDocumentMatchesTheRoutes() async throws {
        try await withIntakeServer { server in
            let response = try await server.call("GET", "/openapi.json")
            #expect(response.status == 200)
            let document = response.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, item in item.keys.map { RouteSignature(method: $0, path: path) } })
            let served = Set(try server.service.makeRouter().routes)
            #expect(documented == served)
            // Every route of the contract (SPEC §3) is among them.
            let contract: [(String, String)] = [
                ("post", "/v1/auth/signup"), ("post", "/v1/auth/login"), ("post", "/v1/products"),
                ("get", "/v1/products/{id}"), ("patch", "/v1/products/{id}"), ("post", "/v1/drops"),
                ("get", "/v1/drops/{id}"), ("get", "/v1/drops/{id}/audit"), ("post", "/v1/drops/{id}/entries"),
                ("get", "/v1/drops/{id}/entries/me"), ("get", "/v1/orders/{id}"), ("post", "/v1/payments/callback"), ("post", "/v1/drops/{id}/purchase"),
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
