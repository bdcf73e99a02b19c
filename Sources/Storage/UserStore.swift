import Postgres
import ShopDomain

/// Accounts in PostgreSQL. Emails arrive normalised (``EmailAddress``); the unique index on
/// `users.email` is what makes them unique.
public struct UserStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    /// The email already belongs to an account.
    public struct EmailTaken: Error, CustomStringConvertible, Sendable {
        public var description: String { "the email address is already registered" }
    }

    public func create(email: EmailAddress, passwordHash: String, role: Role) async throws -> User {
        do {
            let rows = try await pool.query(
                "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id, created_at",
                [.text(email.normalized), .text(passwordHash), .text(role.rawValue)])
            return User(id: try rows[0].int(0), email: email, role: role, createdAt: try rows[0].date(1))
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw EmailTaken()
        }
    }

    /// Creates many accounts in one statement (benchmarks and tests); returns their ids in the
    /// order of `emails`.
    public func createMany(emails: [EmailAddress], passwordHash: String, role: Role) async throws -> [Int] {
        let rows = try await pool.query(
            """
            INSERT INTO users (email, password_hash, role)
            SELECT email, $2, $3 FROM unnest($1::text[]) AS t(email)
            RETURNING id, email
            """,
            [.textArray(emails.map(\.normalized)), .text(passwordHash), .text(role.rawValue)])
        var ids: [String: Int] = [:]
        ids.reserveCapacity(rows.count)
        for index in 0..<rows.count { ids[try rows[index].string(1)] = try rows[index].int(0) }
        return emails.map { ids[$0.normalized]! }
    }

    public func credentials(email: EmailAddress) async throws -> StoredCredentials? {
        let rows = try await pool.query(
            "SELECT id, role, password_hash, token_version, disabled_at IS NOT NULL FROM users WHERE email = $1",
            [.text(email.normalized)])
        guard let row = rows.first else { return nil }
        return StoredCredentials(
            userID: try row.int(0), role: try row.role(1), passwordHash: try row.string(2), tokenVersion: try row.int(3),
            disabled: try row.bool(4))
    }
}

extension PostgresRow {
    func role(_ column: Int) throws -> Role {
        let text = try string(column)
        guard let role = Role(rawValue: text) else {
            throw PostgresError(code: .decoding, message: "unknown role \(text)")
        }
        return role
    }
}
