import Foundation
import Hummingbird
import NIOCore
import ShopDomain

/// The context of one intake request: Hummingbird's core storage, the client's address (for
/// per-address rate limits) and the authenticated account, once ``AuthenticationMiddleware``
/// has checked the bearer token.
public struct IntakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let clientAddress: ClientAddress
    public var user: AuthenticatedUser?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        clientAddress = ClientAddress(source.channel.remoteAddress)
        user = nil
    }

    public var responseEncoder: JSONEncoder { IntakeJSON.encoder }
    public var requestDecoder: JSONDecoder { IntakeJSON.decoder }

    /// The caller's account; `unauthorized` without a valid token.
    public func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw Problem(.unauthorized, "a valid bearer token is required") }
        return user
    }

    /// The caller's account when it has `role`; `forbidden` for another role.
    public func requireRole(_ role: Role) throws -> AuthenticatedUser {
        let user = try requireUser()
        guard user.role == role else { throw Problem(.forbidden, "this needs the \(role.rawValue) role") }
        return user
    }
}

/// An account whose access token was verified.
public struct AuthenticatedUser: Sendable, Hashable {
    public let id: Int
    public let role: Role

    public init(id: Int, role: Role) {
        self.id = id
        self.role = role
    }
}
