import Hummingbird

/// Checks a bearer token when the request carries one and puts the account in the context.
/// A request without a token passes through anonymous (routes decide what needs an account);
/// a request with a bad, forged or expired token is refused at once.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let tokens: AccessTokens

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let authorization = request.headers.value(of: .authorization) else {
            return try await next(request, context)
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw Problem(.unauthorized, "the Authorization header must be a bearer token")
        }
        var context = context
        context.user = try await tokens.verify(String(authorization.dropFirst(7)))
        return try await next(request, context)
    }
}
