import Foundation
import Postgres
import ShopDomain

/// Rows for tests that need drops, customers, entries and orders without going through the API.
enum DropFixtures {
    static func insertProduct(_ pool: PostgresPool, priceCents: Int = 12_000, currency: String = "EUR") async throws -> Int {
        try await pool.query(
            "INSERT INTO products (name, price_cents, currency) VALUES ($1, $2, $3) RETURNING id",
            [.text("Sneaker \(UUID().uuidString.prefix(6))"), .int(priceCents), .text(currency)])[0].int(0)
    }

    /// A drop in any status; draws and raffles get a fresh seed and its commitment.
    static func insertDrop(
        _ pool: PostgresPool, kind: DropKind, status: DropStatus = .open, stock: Int = 10,
        opensIn: Double = -60, closesIn: Double? = 3600, waitlistDepth: Int = 0, maxTickets: Int = 1,
        productID: Int? = nil, entriesDigest: String? = nil
    ) async throws -> Int {
        let product: Int
        if let productID { product = productID } else { product = try await insertProduct(pool) }
        let seed = kind.isDrawn ? DrawProtocolV1.makeSeed() : nil
        let now = Date()
        return try await pool.query(
            """
            INSERT INTO drops (product_id, kind, status, stock, available, opens_at, closes_at, max_tickets,
                               waitlist_depth, seed, commitment, entries_digest)
            VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9::bytea, $10, $11)
            RETURNING id
            """,
            [
                .int(product), .text(kind.rawValue), .text(status.rawValue), .int(stock),
                .timestamp(now.addingTimeInterval(opensIn)), .timestamp(closesIn.map { now.addingTimeInterval($0) }),
                .int(maxTickets), .int(waitlistDepth),
                seed.map { .bytes($0) } ?? .null, .text(seed.map { DrawProtocolV1.commitment(seed: $0) }), .text(entriesDigest),
            ])[0].int(0)
    }

    /// `count` customers, inserted with COPY; returns their ids in ascending order.
    static func insertCustomers(_ pool: PostgresPool, count: Int) async throws -> [Int] {
        let tag = UUID().uuidString.prefix(8).lowercased()
        return try await pool.withConnection { connection in
            try connection.copyIn("COPY users (email, password_hash, role) FROM STDIN") { writer in
                for index in 0..<count {
                    try writer.write("c\(index)-\(tag)@test.example\t$2b$04$notarealhashnotarealhashnotarealhashnotarealhas\tcustomer\n")
                }
            }
            return try connection.query(
                "SELECT id FROM users WHERE email LIKE $1 ORDER BY id", [.text("%-\(tag)@test.example")]
            ).map { try $0.int(0) }
        }
    }

    static func insertEntries(_ pool: PostgresPool, dropID: Int, users: [Int], tickets: @escaping @Sendable (Int) -> Int = { _ in 1 }) async throws {
        try await pool.withConnection { connection in
            try connection.copyIn("COPY entries (drop_id, user_id, tickets) FROM STDIN") { writer in
                for user in users { try writer.write("\(dropID)\t\(user)\t\(tickets(user))\n") }
            }
        }
    }
}
