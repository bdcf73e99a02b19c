import JWTKit
import ShopDomain

/// The claims of an access token: `iss` and `aud` (this platform's API, so a token minted for
/// another service with the same key is refused), `sub` (user id, decimal), `role`, `ver` (the
/// account's token version when it was issued), `exp`, `iat`.
struct AccessTokenClaims: JWTPayload {
    static let issuer = "fastest-shop"
    static let audience = "fastest-shop-api"

    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var role: Role
    var ver: Int
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "not issued by \(Self.issuer)")
        }
        try aud.verifyIntendedAudience(includes: Self.audience)
    }
}
