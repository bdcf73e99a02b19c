import Foundation
import JWTKit
import ShopDomain

/// Issues and verifies HS256 access tokens.
public final class AccessTokens: Sendable {
    private let keys: JWTKeyCollection
    public let lifetimeSeconds: Int
    private let verified: VerifiedTokenCache

    /// - Parameter secret: the HS256 key (at least 32 bytes; settings enforce it).
    public init(secret: String, lifetimeSeconds: Int, cacheCapacity: Int = 200_000) async {
        keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.lifetimeSeconds = lifetimeSeconds
        verified = VerifiedTokenCache(capacity: cacheCapacity)
    }

    /// A signed token for `user`, valid for ``lifetimeSeconds``.
    public func issue(for user: AuthenticatedUser, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: String(user.id)),
            role: user.role,
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            iat: IssuedAtClaim(value: now))
        return try await keys.sign(claims)
    }

    /// The account a token stands for; `unauthorized` when it is malformed, forged or expired.
    public func verify(_ token: String) async throws -> AuthenticatedUser {
        let now = Date().timeIntervalSince1970
        if let user = verified.user(for: token, now: now) { return user }
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Problem(.unauthorized, "the access token is invalid or expired")
        }
        guard let id = Int(claims.sub.value), id > 0 else {
            throw Problem(.unauthorized, "the access token is invalid or expired")
        }
        let user = AuthenticatedUser(id: id, role: claims.role)
        verified.insert(token, user: user, expiresAt: claims.exp.value.timeIntervalSince1970, now: now)
        return user
    }
}
