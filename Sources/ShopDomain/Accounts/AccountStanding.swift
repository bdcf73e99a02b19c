/// What decides whether an account's access tokens still work: tokens carry the role and token
/// version they were issued with; disabling an account or changing its role bumps the version.
public struct AccountStanding: Sendable, Equatable {
    public var role: Role
    public var tokenVersion: Int
    public var disabled: Bool

    public init(role: Role, tokenVersion: Int, disabled: Bool) {
        self.role = role
        self.tokenVersion = tokenVersion
        self.disabled = disabled
    }
}
