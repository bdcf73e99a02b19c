import Postgres
import ShopDomain

/// What keeps an account's tokens working, and the operator's ways to take them away: both bump the
/// token version, so every token issued before stops working (docs/contract.md, "Command line":
/// `admin`).
extension UserStore {
    /// The account's standing; nil when no account has this id (deleted).
    public func standing(userID: Int) async throws -> AccountStanding? {
        let rows = try await pool.query(
            "SELECT role, token_version, disabled_at IS NOT NULL FROM users WHERE id = $1", [.int(userID)])
        guard let row = rows.first else { return nil }
        return AccountStanding(role: try row.role(0), tokenVersion: try row.int(1), disabled: try row.bool(2))
    }

    /// Disables the account (it can no longer log in, its tokens stop working); returns its id,
    /// nil when no account has this email.
    public func disable(email: EmailAddress) async throws -> Int? {
        try await pool.query(
            "UPDATE users SET disabled_at = coalesce(disabled_at, now()), token_version = token_version + 1 WHERE email = $1 RETURNING id",
            [.text(email.normalized)]
        ).first?.int(0)
    }

    /// Gives the account `role`; its tokens issued with the old role stop working. Returns its
    /// id, nil when no account has this email.
    public func setRole(email: EmailAddress, role: Role) async throws -> Int? {
        try await pool.query(
            "UPDATE users SET role = $2, token_version = token_version + 1 WHERE email = $1 RETURNING id",
            [.text(email.normalized), .text(role.rawValue)]
        ).first?.int(0)
    }
}
