import Foundation
import JWTKit
import ShopDomain
import Synchronization

/// Issues and verifies HS256 access tokens.
public final class AccessTokens: Sendable {
    /// jwt-kit's key collection is an actor: every verification through one collection runs on
    /// one executor, one at a time. A drop's opening brings thousands of tokens never seen
    /// before at once, so verifications spread over several identical collections.
    private let keys: [JWTKeyCollection]
    private let nextKeys = Atomic<Int>(0)
    public let lifetimeSeconds: Int
    private let verified: VerifiedTokenCache

    /// - Parameter secret: the HS256 key (at least 32 bytes; settings enforce it).
    public init(secret: String, lifetimeSeconds: Int, cacheCapacity: Int = 200_000) async {
        var keys: [JWTKeyCollection] = []
        for _ in 0..<max(2, ProcessInfo.processInfo.activeProcessorCount * 2) {
            // Headers and claims are decoded by ``TokenJSONDecoder``.
            let parser = DefaultJWTParser(jsonDecoder: TokenJSONDecoder())
            keys.append(await JWTKeyCollection(defaultJWTParser: parser).add(
                hmac: HMACKey(from: secret), digestAlgorithm: .sha256, parser: parser))
        }
        self.keys = keys
        self.lifetimeSeconds = lifetimeSeconds
        verified = VerifiedTokenCache(capacity: cacheCapacity)
    }

    private var anyKeys: JWTKeyCollection {
        keys[nextKeys.wrappingAdd(1, ordering: .relaxed).oldValue % keys.count]
    }

    /// A signed token for `user`, valid for ``lifetimeSeconds``.
    public func issue(for user: AuthenticatedUser, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: String(user.id)),
            role: user.role,
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            iat: IssuedAtClaim(value: now))
        return try await anyKeys.sign(claims)
    }

    /// The account a token stands for; `unauthorized` when it is malformed, forged or expired.
    public func verify(_ token: String) async throws -> AuthenticatedUser {
        let now = Date().timeIntervalSince1970
        if let user = verified.user(for: token, now: now) { return user }
        let claims: AccessTokenClaims
        do {
            claims = try await anyKeys.verify(token, as: AccessTokenClaims.self)
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
