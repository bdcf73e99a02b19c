import Hummingbird
import Logging

/// Turns every error into a problem document, so clients always get
/// `application/problem+json`, and logs server-side faults (their descriptions are safe to log:
/// no error type of this project puts parameters or secrets in its description).
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.isServerFault {
                context.logger.error(
                    "request failed",
                    metadata: ["route": .string(context.endpointPath ?? request.uri.path), "error": .string(String(describing: error))])
            }
            return try problem.response(from: request, context: context)
        }
    }
}
