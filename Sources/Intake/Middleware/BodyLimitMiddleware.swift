import Hummingbird

/// Refuses bodies above the configured size with 413 before any handler sees them: by the
/// declared length when there is one, otherwise while reading.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let maxBytes: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers.value(of: .contentLength).flatMap(Int.init), length > maxBytes {
            throw Problem(.payloadTooLarge, "the request body is larger than \(maxBytes) bytes")
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Problem(.payloadTooLarge, "the request body is larger than \(maxBytes) bytes")
        }
        return try await next(request, context)
    }
}
