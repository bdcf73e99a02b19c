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
