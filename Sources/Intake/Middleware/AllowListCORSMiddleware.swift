import HTTPTypes
import Hummingbird

/// Cross-origin calls from browser front ends of the origins in `http.cors_origins` (an exact
/// allow-list; empty by default, so no origin may). An allowed origin gets its own origin back
/// in `Access-Control-Allow-Origin` (never `*`: the list is the policy) and a preflight answered
/// here; a preflight from any other origin is refused with 403, and its other requests get no
/// CORS headers, so the browser keeps their answers from the page. Bearer tokens, not cookies,
/// authenticate the API, so credentials are never allowed. (Hummingbird's own CORSMiddleware
/// allows one origin, any origin or every origin; not a list.)
///
/// ``IntakeService`` adds it only when the list is not empty: by default no request pays for it,
/// and a preflight finds no route (404), which a browser takes as a refusal just the same.
///
/// It sits outside ``ProblemMiddleware`` so that problem answers (a 409 `sold-out`) carry the
/// headers too: a front end must be able to read why it was refused.
struct AllowListCORSMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let allowedOrigins: Set<String>

    static let allowedMethods = "GET, POST, PATCH, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type"
    static let exposedHeaders = "Retry-After, Location"
    static let preflightMaxAgeSeconds = "600"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let origin = request.headers.value(of: .origin) else { return try await next(request, context) }
        let isPreflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        guard allowedOrigins.contains(origin) else {
            guard isPreflight else { return try await next(request, context) }
            return try Problem(.forbidden, "this origin may not call the API from a browser").response(from: request, context: context)
        }
        if isPreflight {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin, .vary: "Origin",
                    .accessControlAllowMethods: Self.allowedMethods,
                    .accessControlAllowHeaders: Self.allowedHeaders,
                    .accessControlMaxAge: Self.preflightMaxAgeSeconds,
                ])
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        return response
    }
}
