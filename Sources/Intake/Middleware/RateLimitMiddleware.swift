import Hummingbird
import ShopDomain

/// Per-address and per-customer token buckets, shared by every instance through Redis
/// (``SharedRateLimiter``); an empty bucket is 429 with `Retry-After`. Runs after
/// authentication, so a customer is limited whichever address they come from. Routes without
/// accounts (the payment callback) have no per-customer limit.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let limiter: SharedRateLimiter

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let customer = context.user.flatMap { $0.role == .customer ? $0.id : nil }
        switch await limiter.acquire(address: context.clientAddress, customer: customer) {
        case .address(let wait)?:
            throw Problem(.rateLimited, "too many requests from this address", retryAfterSeconds: wait)
        case .customer(let wait)?:
            throw Problem(.rateLimited, "too many requests for this account", retryAfterSeconds: wait)
        case nil:
            return try await next(request, context)
        }
    }
}
