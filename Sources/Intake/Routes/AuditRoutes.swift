import Hummingbird
import NIOCore
import Postgres
import ShopDomain
import Storage

/// `GET /v1/drops/{id}/audit`: the audit bundle of a drawn draw or raffle (SPEC §5), from which
/// anyone can recompute the result offline (`fastest-shop verify`, `scripts/draw_reference.py`).
struct AuditRoutes: RouteGroup {
    let pool: PostgresPool

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.get, "/v1/drops/{id}/audit", read)
    }

    @Sendable func read(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let id = try context.id(of: "drop")
        // A drop of a million entries takes longer than a request's usual wait for PostgreSQL.
        switch try await pool.withConnection({ connection in
            try connection.withoutReplyTimeout { try AuditBundleStore.bundle(connection, dropID: id) }
        }) {
        case .notFound:
            throw Problem.notFound("drop")
        case .notDrawn:
            throw Problem(.notDrawn, "the drop is not a drawn draw or raffle; its seed stays secret until the draw")
        case .bundle(let bundle):
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: bundle.jsonBytes())))
        }
    }
}

extension AuditRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/drops/{id}/audit": [
            "get": OpenAPI.operation(
                "Read a drawn drop's audit bundle", tag: "drops", access: .anyone, parameters: [OpenAPI.pathID("Drop id.")],
                responses: [(200, "The audit bundle (draw protocol v1).", "AuditBundle")], errors: [404, 409, 429, 503]),
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
