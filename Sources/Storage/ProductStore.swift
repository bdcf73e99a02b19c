import Postgres
import ShopDomain

/// Products in PostgreSQL, the source of truth behind the intake's Redis cache.
public struct ProductStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    static let columns = "id, name, price_cents, currency, created_at, updated_at"

    public func create(_ product: NewProduct) async throws -> Product {
        let rows = try await pool.query(
            "INSERT INTO products (name, price_cents, currency) VALUES ($1, $2, $3) RETURNING \(Self.columns)",
            [.text(product.name), .int(product.priceCents), .text(product.currency)])
        return try Product(row: rows[0])
    }

    public func fetch(id: Int) async throws -> Product? {
        let rows = try await pool.query("SELECT \(Self.columns) FROM products WHERE id = $1", [.int(id)])
        return try rows.first.map(Product.init(row:))
    }

    /// Applies the changes; nil when there is no such product.
    public func update(id: Int, _ changes: ProductChanges) async throws -> Product? {
        let rows = try await pool.query(
            """
            UPDATE products SET
                name = coalesce($2, name),
                price_cents = coalesce($3, price_cents),
                currency = coalesce($4, currency),
                updated_at = now()
            WHERE id = $1
            RETURNING \(Self.columns)
            """,
            [.int(id), .text(changes.name), .int(changes.priceCents), .text(changes.currency)])
        return try rows.first.map(Product.init(row:))
    }
}

extension Product {
    init(row: PostgresRow) throws {
        self.init(
            id: try row.int(0), name: try row.string(1), priceCents: try row.int(2), currency: try row.string(3),
            createdAt: try row.date(4), updatedAt: try row.date(5))
    }
}
