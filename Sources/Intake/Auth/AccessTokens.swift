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
    /// The lifetime of issued tokens, and the longest any token may claim (`exp` − `iat`): a
    /// token minted with a longer life is refused even though its signature is good.
    public let lifetimeSeconds: Int
    private let verified: VerifiedTokenCache
    /// The account as the store knows it now; nil for an issuer that does not verify accounts
    /// (benchmarks and tests that only mint tokens).
    private let standing: (@Sendable (Int) async throws -> AccountStanding?)?
    /// How old a cached token's account check may get before the account is checked again.
    private let recheckSeconds: Double

    /// - Parameters:
    ///   - secret: the HS256 key (at least 32 bytes; settings enforce it).
    ///   - standing: looks an account up, so that a disabled, demoted or deleted account's
    ///     tokens stop working (checked on a token's first verification and again once its
    ///     check is `recheckSeconds` old).
    public init(
        secret: String, lifetimeSeconds: Int, cacheCapacity: Int = 200_000,
        recheckSeconds: Int = 60, standing: (@Sendable (Int) async throws -> AccountStanding?)? = nil
    ) async {
        var keys: [JWTKeyCollection] = []
        for _ in 0..<max(2, ProcessInfo.processInfo.activeProcessorCount * 2) {
            // Headers and claims are decoded by ``TokenJSONDecoder``.
            let parser = DefaultJWTParser(jsonDecoder: TokenJSONDecoder())
            keys.append(
                await JWTKeyCollection(defaultJWTParser: parser).add(
                    hmac: HMACKey(from: secret), digestAlgorithm: .sha256, parser: parser))
        }
        self.keys = keys
        self.lifetimeSeconds = lifetimeSeconds
        self.standing = standing
        self.recheckSeconds = Double(recheckSeconds)
        verified = VerifiedTokenCache(capacity: cacheCapacity)
    }

    private var anyKeys: JWTKeyCollection {
        keys[nextKeys.wrappingAdd(1, ordering: .relaxed).oldValue % keys.count]
    }

    /// A signed token for `user`, valid for ``lifetimeSeconds``; `version` is the account's
    /// current token version (0 for an account never disabled or changed).
    public func issue(for user: AuthenticatedUser, version: Int = 0, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            iss: IssuerClaim(value: AccessTokenClaims.issuer),
            aud: AudienceClaim(value: AccessTokenClaims.audience),
            sub: SubjectClaim(value: String(user.id)),
            role: user.role,
            ver: version,
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(lifetimeSeconds))),
            iat: IssuedAtClaim(value: now))
        return try await anyKeys.sign(claims)
    }

    /// The account a token stands for; `unauthorized` when it is malformed, forged, expired,
    /// longer-lived than allowed, or its account is gone, disabled or no longer has its role or
    /// version.
    public func verify(_ token: String) async throws -> AuthenticatedUser {
        let now = Date().timeIntervalSince1970
        if let entry = verified.entry(for: token, now: now) {
            guard standing != nil, now - entry.checkedAt >= recheckSeconds else { return entry.user }
            return try await check(token, entry.user, version: entry.version, expiresAt: entry.expiresAt, now: now)
        }
        let claims: AccessTokenClaims
        do {
            claims = try await anyKeys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Self.invalid
        }
        // One second of slack for the rounding of `exp` and `iat` to whole seconds.
        guard let id = Int(claims.sub.value), id > 0,
            claims.exp.value.timeIntervalSince(claims.iat.value) <= Double(lifetimeSeconds) + 1
        else { throw Self.invalid }
        return try await check(
            token, AuthenticatedUser(id: id, role: claims.role), version: claims.ver,
            expiresAt: claims.exp.value.timeIntervalSince1970, now: now)
    }

    /// Checks the account behind a verified token and caches the answer.
    private func check(_ token: String, _ user: AuthenticatedUser, version: Int, expiresAt: Double, now: Double) async throws -> AuthenticatedUser {
        var checkedAt = now
        if let standing {
            let found: AccountStanding?
            do {
                found = try await standing(user.id)
            } catch {
                // The store is unreachable: the signature stands, and refusing every token
                // would turn an outage of PostgreSQL into an outage of the routes that do not
                // need it (open-run refusals come from Redis alone). The account is checked
                // again a second later instead of a full interval.
                checkedAt = now - recheckSeconds + 1
                verified.insert(token, .init(user: user, version: version, expiresAt: expiresAt, checkedAt: checkedAt), now: now)
                return user
            }
            guard let account = found, !account.disabled, account.tokenVersion == version, account.role == user.role else {
                verified.remove(token)
                throw Self.invalid
            }
        }
        verified.insert(token, .init(user: user, version: version, expiresAt: expiresAt, checkedAt: checkedAt), now: now)
        return user
    }

    private static var invalid: Problem { Problem(.unauthorized, "the access token is invalid or expired") }
}
