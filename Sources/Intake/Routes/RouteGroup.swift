import Hummingbird

/// One feature's routes: a new feature is one type conforming to this protocol (in its own file)
/// added to ``IntakeService``'s list of route groups, and its operations added to the OpenAPI
/// document (`OpenAPI/openapi.json`; a test fails while a served route is missing there).
protocol RouteGroup: Sendable {
    /// Adds the routes to the registry.
    func addRoutes(to routes: RouteRegistry)
}

/// A route as the OpenAPI document names it: lower-case method and templated path.
public struct RouteSignature: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let method: String
    public let path: String

    public init(method: String, path: String) {
        self.method = method.lowercased()
        self.path = path
    }

    public var description: String { "\(method.uppercased()) \(path)" }

    public static func < (lhs: RouteSignature, rhs: RouteSignature) -> Bool {
        (lhs.path, lhs.method) < (rhs.path, rhs.method)
    }
}

/// Where route groups add their routes. It records every route it was given, so the service can
/// show that its OpenAPI document covers exactly the routes it serves.
final class RouteRegistry {
    typealias Handler = @Sendable (Request, IntakeRequestContext) async throws -> Response

    private let register: (RouterPath, HTTPRequest.Method, @escaping Handler) -> Void
    private(set) var registered: [RouteSignature] = []

    init(_ router: some RouterMethods<IntakeRequestContext>) {
        register = { path, method, handler in router.on(path, method: method, use: handler) }
    }

    /// Adds a route; `path` uses OpenAPI templates (`/v1/drops/{id}`), which Hummingbird matches
    /// as captures.
    func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        register(RouterPath(path), method, handler)
        registered.append(RouteSignature(method: method.rawValue, path: path))
    }
}

extension IntakeRequestContext {
    /// The numeric `{id}` of the path; a non-numeric id names nothing, so it is `not-found`.
    func id(_ parameter: String = "id", of what: String) throws -> Int {
        guard let id = parameters.get(parameter, as: Int.self), id > 0 else { throw Problem.notFound(what) }
        return id
    }
}
