import Hummingbird
import NIOCore
import Postgres
import ShopDomain
import Storage

/// `GET /v1/drops/{id}/audit`: the audit bundle of a drawn draw or raffle (docs/contract.md, "Draw
/// protocol v1"), from which anyone can recompute the result offline (`fastest-shop verify`,
/// `scripts/draw_reference.py`).
struct AuditRoutes: RouteGroup {
    let pool: PostgresPool

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.get, "/v1/drops/{id}/audit", read)
    }

    @Sendable func read(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let id = try context.id(of: "drop")
        // Rebuilding (and compressing) the bundle of a draw from before stored bundles reads all
        // of its entries: on the connection's thread, with no cap on the wait.
        let found = try await pool.withConnection { connection -> Found in
            switch try connection.withoutReplyTimeout({ try AuditBundleStore.source(connection, dropID: id) }) {
            case .notFound: return .notFound
            case .notDrawn: return .notDrawn
            case .stored(let stored): return .stored(stored)
            case .rebuilt(let bundle): return .response(try Self.whole(bundle, request: request))
            }
        }
        switch found {
        case .notFound:
            throw Problem.notFound("drop")
        case .notDrawn:
            throw Problem(.notDrawn, "the drop is not a drawn draw or raffle; its seed stays secret until the draw")
        case .stored(let stored):
            return try Self.streamed(stored, dropID: id, pool: pool, request: request)
        case .response(let response):
            return response
        }
    }

    private enum Found: Sendable {
        case notFound, notDrawn
        case stored(AuditBundleStore.Stored)
        case response(Response)
    }
}

extension AuditRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/drops/{id}/audit": [
            "get": OpenAPI.operation(
                "Read a drawn drop's audit bundle", tag: "drops", access: .anyone, parameters: [OpenAPI.pathID("Drop id.")],
                responses: [
                    (200, "The audit bundle (draw protocol v1), streamed; gzip-encoded when Accept-Encoding allows it. Named by its ETag and cacheable for good (Cache-Control: immutable).", "AuditBundle"),
                    (304, "If-None-Match names this bundle: not modified.", nil),
                ],
                errors: [404, 409, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "AuditBundle": OpenAPI.object(
            ["protocol": OpenAPI.string, "drop_id": OpenAPI.integer, "commitment": OpenAPI.string, "seed": OpenAPI.string,
             "beacon": OpenAPI.string, "entries_digest": OpenAPI.string, "stock": OpenAPI.integer,
             "waitlist_depth": OpenAPI.integer,
             "entries": ["type": "array", "items": ["type": "array", "items": OpenAPI.integer]],
             "winners": ["type": "array", "items": OpenAPI.integer],
             "waitlist": ["type": "array", "items": OpenAPI.integer]],
            required: ["protocol", "drop_id", "commitment", "seed", "beacon", "entries_digest", "stock", "waitlist_depth",
                       "entries", "winners", "waitlist"]),
    ]
}
