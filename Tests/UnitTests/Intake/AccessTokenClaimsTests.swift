import Foundation
import JWTKit
import ShopDomain
import Testing

@testable import Intake

/// Tokens signed with the right key are still refused when they were not issued by this
/// platform for its API, or claim a longer life than the setting allows.
@Suite struct AccessTokenClaimsTests {
    static let secret = "a-secret-of-at-least-thirty-two-bytes"

    static func sign(iss: String = AccessTokenClaims.issuer, aud: String = AccessTokenClaims.audience, life: Double = 600) async throws -> String {
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let now = Date()
        return try await keys.sign(
            AccessTokenClaims(
                iss: IssuerClaim(value: iss), aud: AudienceClaim(value: aud), sub: SubjectClaim(value: "7"), role: .customer, ver: 0,
                exp: ExpirationClaim(value: now.addingTimeInterval(life)), iat: IssuedAtClaim(value: now)))
    }

    @Test func issuerAudienceAndLifetimeAreChecked() async throws {
        let tokens = await AccessTokens(secret: Self.secret, lifetimeSeconds: 600)
        #expect(try await tokens.verify(try await Self.sign()) == AuthenticatedUser(id: 7, role: .customer))
        await #expect(throws: Problem.self) { try await tokens.verify(try await Self.sign(iss: "someone-else")) }
        await #expect(throws: Problem.self) { try await tokens.verify(try await Self.sign(aud: "another-api")) }
        await #expect(throws: Problem.self) { try await tokens.verify(try await Self.sign(life: 3600)) }
        let issued = try await tokens.issue(for: AuthenticatedUser(id: 9, role: .operator))
        #expect(try await tokens.verify(issued) == AuthenticatedUser(id: 9, role: .operator))
    }
}
