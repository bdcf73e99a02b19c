import JWTKit
import ShopDomain

/// The claims of an access token: `sub` (user id, decimal), `role`, `exp`, `iat`.
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var role: Role
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
