import Foundation
import Hummingbird
import ShopDomain
import Storage

/// Products: operators create and change them; anyone reads them, from the cache when warm.
struct ProductRoutes: RouteGroup {
    let products: ProductStore
    let cache: ProductCache
    let localReads: CacheInvalidations

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/products", create)
        routes.add(.get, "/v1/products/{id}", read)
        routes.add(.patch, "/v1/products/{id}", update)
    }

    struct ProductBody: Decodable {
        let name: String?
        let priceCents: Int?
        let currency: String?
        enum CodingKeys: String, CodingKey {
            case name
            case priceCents = "price_cents"
            case currency
        }
    }

    struct ProductDocument: Encodable {
        let product: Product
        enum CodingKeys: String, CodingKey {
            case id, name
            case priceCents = "price_cents"
            case currency
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(product.id, forKey: .id)
            try container.encode(product.name, forKey: .name)
            try container.encode(product.priceCents, forKey: .priceCents)
            try container.encode(product.currency, forKey: .currency)
            try container.encode(product.createdAt, forKey: .createdAt)
            try container.encode(product.updatedAt, forKey: .updatedAt)
        }
    }

    @Sendable func create(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        _ = try context.requireRole(.operator)
        let body = try await request.decodeJSON(as: ProductBody.self)
        var issues: [ValidationIssue] = []
        if body.name == nil { issues.append(ValidationIssue(field: "name", message: "is required")) }
        if body.priceCents == nil { issues.append(ValidationIssue(field: "price_cents", message: "is required")) }
        if body.currency == nil { issues.append(ValidationIssue(field: "currency", message: "is required")) }
        try ValidationFailure.check(issues)
        let product = try await products.create(
            try NewProduct(name: body.name!, priceCents: body.priceCents!, currency: body.currency!))
        return try .json(ProductDocument(product: product), status: .created)
    }

    @Sendable func read(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let id = try context.id(of: "product")
        // A local hit counts as a product cache hit: served without PostgreSQL all the same.
        let response = try await localReads.cachedJSON(
            key: CacheInvalidations.productKey(id), onHit: { cache.countLocalHit() },
            load: { try await cache.product(id: id).map { ProductDocument(product: $0) } })
        guard let response else { throw Problem.notFound("product") }
        return response
    }

    /// Changes the product in PostgreSQL with the cached copy invalidated around the commit, so a
    /// concurrent read cannot put the old row back for good.
    @Sendable func update(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        _ = try context.requireRole(.operator)
        let id = try context.id(of: "product")
        let body = try await request.decodeJSON(as: ProductBody.self)
        let changes = try ProductChanges(name: body.name, priceCents: body.priceCents, currency: body.currency)
        let updated = try await cache.invalidating(id: id) { try await products.update(id: id, changes) }
        await localReads.publish(CacheInvalidations.productKey(id))
        guard let product = updated else { throw Problem.notFound("product") }
        return try .json(ProductDocument(product: product))
    }
}
