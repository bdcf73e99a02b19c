import Foundation
import Hummingbird

/// Liveness, readiness, metrics and the API description. Outside `/v1`: no authentication and
/// no rate limits, so probes and scrapers always get through.
struct OperationsRoutes: RouteGroup {
    let readinessMonitor: ReadinessMonitor
    let metrics: IntakeMetrics
    /// The encoded OpenAPI document, built once.
    let openAPIDocument: [UInt8]

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.get, "/healthz", health)
        routes.add(.get, "/readyz", readiness)
        routes.add(.get, "/metrics", exposition)
        routes.add(.get, "/openapi.json", openAPI)
    }

    /// Liveness: the process answers. No I/O, so a slow store never gets the process restarted.
    @Sendable func health(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }

    struct Readiness: Encodable {
        let status: String
        let postgres: String
        let redis: String
    }

    /// Readiness: PostgreSQL and Redis both answered the background monitor's latest probe;
    /// 503 (problem) naming what does not. No store round trip per call (``ReadinessMonitor``).
    @Sendable func readiness(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let snapshot = await readinessMonitor.current()
        guard ContinuousClock.now - snapshot.checkedAt < ReadinessMonitor.maximumAge else {
            throw Problem.unavailable("not ready: the stores have not been checked for \(ReadinessMonitor.maximumAge)")
        }
        guard snapshot.postgres && snapshot.redis else {
            let down = [snapshot.postgres ? nil : "PostgreSQL", snapshot.redis ? nil : "Redis"].compactMap { $0 }
            throw Problem.unavailable("not ready: \(down.joined(separator: " and ")) unreachable")
        }
        return try .json(Readiness(status: "ready", postgres: "up", redis: "up"))
    }

    @Sendable func exposition(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    @Sendable func openAPI(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPIDocument)))
    }
}
