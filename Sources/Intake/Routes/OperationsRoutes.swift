import Foundation
import Hummingbird
import Postgres
import Redis

/// Liveness, readiness, metrics and the API description. Outside `/v1`: no authentication and
/// no rate limits, so probes and scrapers always get through.
struct OperationsRoutes: RouteGroup {
    let pool: PostgresPool
    let redis: RedisClient
    let metrics: IntakeMetrics
    /// The encoded OpenAPI document, built once.
    let openAPIDocument: [UInt8]

    /// Readiness answers within about this long even when a store hangs.
    static let readinessTimeout: Duration = .milliseconds(800)

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

    /// Readiness: PostgreSQL and Redis both answer; 503 (problem) naming what does not.
    @Sendable func readiness(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        async let postgresUp = Self.answers { [pool] in try await pool.query("SELECT 1") }
        async let redisUp = Self.answers { [redis] in try await redis.execute("PING") }
        let (postgres, redis) = await (postgresUp, redisUp)
        guard postgres && redis else {
            let down = [postgres ? nil : "PostgreSQL", redis ? nil : "Redis"].compactMap { $0 }
            throw Problem.unavailable("not ready: \(down.joined(separator: " and ")) unreachable")
        }
        return try .json(Readiness(status: "ready", postgres: "up", redis: "up"))
    }

    /// Whether `probe` succeeds within ``readinessTimeout``.
    static func answers(_ probe: @escaping @Sendable () async throws -> some Sendable) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await probe()) != nil }
            group.addTask {
                try? await Task.sleep(for: readinessTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
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
