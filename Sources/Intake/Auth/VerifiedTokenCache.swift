import Foundation
import Synchronization

/// Tokens whose signature was already checked, until they expire.
///
/// Checking an HS256 signature and decoding the claims on every request costs more than the
/// rest of an entry request; a customer sends the same token many times. The cache is keyed by
/// the whole token text, so only the exact bytes that verified are ever trusted, and an entry
/// is used only before its `exp`. It is bounded: when a shard is full, expired entries go, and
/// if that is not enough the shard starts over.
final class VerifiedTokenCache: Sendable {
    private struct Entry {
        let user: AuthenticatedUser
        let expiresAt: Double
    }

    private final class Shard: Sendable {
        let entries = Mutex<[String: Entry]>([:])
    }

    private let shards: [Shard]
    private let capacityPerShard: Int

    init(capacity: Int, shards: Int = 16) {
        self.shards = (0..<shards).map { _ in Shard() }
        self.capacityPerShard = max(1, capacity / shards)
    }

    func user(for token: String, now: Double) -> AuthenticatedUser? {
        shard(for: token).entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > now else {
                entries[token] = nil
                return nil
            }
            return entry.user
        }
    }

    func insert(_ token: String, user: AuthenticatedUser, expiresAt: Double, now: Double) {
        let capacity = capacityPerShard
        shard(for: token).entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(user: user, expiresAt: expiresAt)
        }
    }

    private func shard(for token: String) -> Shard {
        shards[Int(UInt(bitPattern: token.hashValue) % UInt(shards.count))]
    }
}
