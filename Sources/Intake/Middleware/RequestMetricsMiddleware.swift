import Hummingbird

/// Counts every answered request and its latency by route template, method and status.
/// Outermost, so it sees the final status of every request, problems included.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let metrics: IntakeMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        metrics.recordRequest(
            route: context.endpointPath ?? "unmatched",
            method: request.method.rawValue,
            status: response.status.code,
            nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }
}
