import Foundation

/// An account: a customer who enters drops and buys, or an operator who runs them.
public struct User: Sendable, Equatable {
    public var id: Int
    public var email: EmailAddress
    public var role: Role
    public var createdAt: Date

    public init(id: Int, email: EmailAddress, role: Role, createdAt: Date) {
        self.id = id
        self.email = email
        self.role = role
        self.createdAt = createdAt
    }
}

/// What login needs to check a password: never leaves the server.
public struct StoredCredentials: Sendable {
    public var userID: Int
    public var role: Role
    public var passwordHash: String
    /// The version new tokens carry; a disabled account gets none.
    public var tokenVersion: Int
    public var disabled: Bool

    public init(userID: Int, role: Role, passwordHash: String, tokenVersion: Int = 0, disabled: Bool = false) {
        self.userID = userID
        self.role = role
        self.passwordHash = passwordHash
        self.tokenVersion = tokenVersion
        self.disabled = disabled
    }
}
