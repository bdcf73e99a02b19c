import Foundation
import Hummingbird
import Postgres
import ShopDomain
import Storage

/// Orders, read side: the owner or an operator sees one; to anyone else it does not exist.
struct OrderRoutes: RouteGroup {
    let pool: PostgresPool

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.get, "/v1/orders/{id}", read)
    }

    @Sendable func read(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let id = try context.id(of: "order")
        guard let order = try await pool.withConnection({ try OrderStore.order($0, id: id) }),
            order.userID == user.id || user.role == .operator
        else {
            throw Problem.notFound("order")
        }
        return try .json(OrderDocument(order))
    }
}

struct OrderDocument: Encodable {
    let order: Order

    init(_ order: Order) { self.order = order }

    enum CodingKeys: String, CodingKey {
        case id
        case dropID = "drop_id"
        case userID = "user_id"
        case status
        case amountCents = "amount_cents"
        case currency
        case paymentID = "payment_id"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(order.id, forKey: .id)
        try container.encode(order.dropID, forKey: .dropID)
        try container.encode(order.userID, forKey: .userID)
        try container.encode(order.status.rawValue, forKey: .status)
        try container.encode(order.amountCents, forKey: .amountCents)
        try container.encode(order.currency, forKey: .currency)
        try container.encodeIfPresent(order.paymentID, forKey: .paymentID)
        try container.encode(order.expiresAt, forKey: .expiresAt)
        try container.encode(order.createdAt, forKey: .createdAt)
        try container.encode(order.updatedAt, forKey: .updatedAt)
    }
}
