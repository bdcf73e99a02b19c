import Crypto
import Redis
import ShopDomain
import TextEncodings

/// A signed-in operator's console session.
struct ConsoleSession: Sendable, Equatable {
    let userID: Int
    /// Sent back in every state-changing form (`csrf`); a cross-site form cannot know it.
    let csrfToken: String
}

/// Console sessions in Redis, shared by every `serve` instance, each expiring by itself
/// (`console.session_ttl_s` after sign-in). The cookie holds a random id; Redis holds only its
/// SHA-256, so a copy of Redis's data opens no session.
struct ConsoleSessions: Sendable {
    let redis: RedisClient
    let keyPrefix: String
    let lifetimeSeconds: Int

    func key(_ sessionID: String) -> String {
        keyPrefix + "console:session:" + SHA256.hash(data: Array(sessionID.utf8)).lowercaseHex
    }

    /// Starts a session for `userID`; returns the id for the cookie and the session.
    func start(userID: Int) async throws -> (id: String, session: ConsoleSession) {
        let id = Self.randomToken()
        let session = ConsoleSession(userID: userID, csrfToken: Self.randomToken())
        _ = try await redis.execute("SET", key(id), "\(userID)|\(session.csrfToken)", "EX", lifetimeSeconds).throwingError()
        return (id, session)
    }

    /// The live session with this id; nil when it expired, ended or never was.
    func session(id: String) async throws -> ConsoleSession? {
        guard Self.isWellFormed(id) else { return nil }
        guard let value = try await redis.execute("GET", key(id)).throwingError().string else { return nil }
        let parts = value.split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let userID = Int(parts[0]) else { return nil }
        return ConsoleSession(userID: userID, csrfToken: String(parts[1]))
    }

    func end(id: String) async throws {
        guard Self.isWellFormed(id) else { return }
        _ = try await redis.execute("DEL", key(id)).throwingError()
    }

    /// 32 random bytes from the system's secure generator, as hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 64 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Compares two tokens in time that does not depend on where they differ.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
