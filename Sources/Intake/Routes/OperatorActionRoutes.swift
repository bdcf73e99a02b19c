import Hummingbird
import ShopDomain

/// The operator's money actions over the JSON API (docs/payments.md, "Refunds"): refund a paid order,
/// cancel a drop. What they do is ``OperatorActions``, shared with the console.
struct OperatorActionRoutes: RouteGroup {
    let actions: OperatorActions

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/orders/{id}/refund", refund)
        routes.add(.post, "/v1/drops/{id}/cancel", cancel)
    }

    @Sendable func refund(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.operator)
        let order = try await actions.refund(orderID: try context.id(of: "order"), operatorID: user.id, logger: context.logger)
        return try .json(OrderDocument(order))
    }

    @Sendable func cancel(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.operator)
        let drop = try await actions.cancel(dropID: try context.id(of: "drop"), operatorID: user.id, logger: context.logger)
        return try .json(DropDocument(drop))
    }
}
