import Hummingbird
import ShopDomain
import Storage

/// Sign-up and login.
struct AccountRoutes: RouteGroup {
    let users: UserStore
    let hasher: PasswordHasher
    let tokens: AccessTokens
    /// Per-address and per-email limits, taken before any bcrypt work.
    let limiter: AuthAttemptLimiter

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/auth/signup", signup)
        routes.add(.post, "/v1/auth/login", login)
    }

    struct Credentials: Decodable {
        let email: String
        let password: String
    }

    struct SignedUp: Encodable {
        let userID: Int
        enum CodingKeys: String, CodingKey { case userID = "user_id" }
    }

    struct AccessToken: Encodable {
        let accessToken: String
        let tokenType = "Bearer"
        let expiresIn: Int
        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case tokenType = "token_type"
            case expiresIn = "expires_in"
        }
    }

    /// Creates a customer account. Operators are created with `fastest-shop admin create-user`.
    @Sendable func signup(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: Credentials.self)
        try await limiter.acquire(address: context.clientAddress, email: body.email)
        let email = EmailAddress(body.email)
        var issues = PasswordPolicy.issues(body.password)
        if email == nil {
            let control = ControlCharacters.issues(body.email, field: "email")
            issues.insert(contentsOf: control.isEmpty ? [ValidationIssue(field: "email", message: "must be an email address")] : control, at: 0)
        }
        try ValidationFailure.check(issues)
        let hash = try await hasher.hash(body.password)
        let user = try await users.create(email: email!, passwordHash: hash, role: .customer)
        return try .json(SignedUp(userID: user.id), status: .created)
    }

    /// Checks the password and issues an access token. Every failure is the same 401 after the
    /// same amount of work, so the answer does not tell whether the email has an account.
    @Sendable func login(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(as: Credentials.self)
        // Refused before any work: such a password cannot have been set, and a NUL would cut it
        // short inside bcrypt. Saying so reveals nothing about the account.
        try ValidationFailure.check(
            ControlCharacters.issues(body.email, field: "email") + ControlCharacters.issues(body.password, field: "password"))
        try await limiter.acquire(address: context.clientAddress, email: body.email, checkLockout: true)
        let credentials = try await EmailAddress(body.email).asyncFlatMap { try await users.credentials(email: $0) }
        let matches = try await hasher.verify(body.password, against: credentials?.passwordHash)
        // A disabled account gets the same answer after the same work, and every failure counts
        // towards a lockout whether or not the email has an account.
        guard matches, let credentials, !credentials.disabled else {
            await limiter.recordFailure(email: body.email)
            throw Problem(.unauthorized, "the email or the password is wrong")
        }
        await limiter.recordSuccess(email: body.email)
        let token = try await tokens.issue(
            for: AuthenticatedUser(id: credentials.userID, role: credentials.role), version: credentials.tokenVersion)
        return try .json(AccessToken(accessToken: token, expiresIn: tokens.lifetimeSeconds))
    }
}

extension Optional {
    fileprivate func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
