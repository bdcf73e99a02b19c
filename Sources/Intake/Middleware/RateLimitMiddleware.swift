import Hummingbird
import ShopDomain

/// Per-address and per-customer token buckets; an empty bucket is 429 with `Retry-After`.
/// Runs after authentication, so a customer is limited whichever address they come from.
/// Routes without accounts (the payment callback) have no per-customer limiter.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = IntakeRequestContext
    let perAddress: RateLimiter<ClientAddress>
    let perCustomer: RateLimiter<Int>?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let wait = perAddress.acquire(context.clientAddress) {
            throw Problem(.rateLimited, "too many requests from this address", retryAfterSeconds: wait)
        }
        if let perCustomer, let user = context.user, user.role == .customer, let wait = perCustomer.acquire(user.id) {
            throw Problem(.rateLimited, "too many requests for this account", retryAfterSeconds: wait)
        }
        return try await next(request, context)
    }
}
