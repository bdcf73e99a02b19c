import Hummingbird
import Synchronization

/// Answers a method a path does not take with 405 and `Allow` (RFC 9110 §15.5.6) instead of the
/// router's 404: the router finds no handler for the pair and cannot tell the two apart.
///
/// Only the router's own not-found reaches the check (a handler's "no such drop" is a
/// ``Problem``, not an `HTTPError`), so routes that exist pay one `catch` and nothing more.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(forPath: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw Problem(
                .methodNotAllowed, "this resource does not take \(request.method.rawValue)", allowedMethods: allowed)
        }
    }
}

/// The served routes' templated paths and their methods, filled in once the routes are added
/// (the middleware that reads it has to exist before them).
final class RouteTable: Sendable {
    private let routes = Mutex<[RouteSignature]>([])

    func record(_ signatures: [RouteSignature]) {
        routes.withLock { $0 += signatures }
    }

    /// The methods (upper case, sorted) of every route whose template matches `path`; a `{…}`
    /// segment matches any one segment, as the router's captures do.
    func methods(forPath path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = routes.withLock { routes in
            routes.filter { route in
                let template = route.path.split(separator: "/")
                return template.count == segments.count
                    && zip(template, segments).allSatisfy { pattern, segment in pattern.first == "{" || pattern == segment }
            }
        }
        return Set(matching.map { $0.method.uppercased() }).sorted()
    }
}
