import Foundation
import Synchronization

/// Tokens whose signature was already checked, until they expire.
///
/// Checking an HS256 signature and decoding the claims on every request costs more than the
/// rest of an entry request; a customer sends the same token many times. The cache is keyed by
/// the whole token text, so only the exact bytes that verified are ever trusted, and an entry
/// is used only before its `exp`. Each entry remembers when its account was last checked, so
/// the account is checked again once that is too old. It is bounded: when a shard is full,
/// expired entries go, and if that is not enough the shard starts over.
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let user: AuthenticatedUser
        /// The token's `ver` claim.
        let version: Int
        let expiresAt: Double
        /// When the account's standing was last found to match the token.
        let checkedAt: Double
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

    func entry(for token: String, now: Double) -> Entry? {
        shard(for: token).entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > now else {
                entries[token] = nil
                return nil
            }
            return entry
        }
    }

    func insert(_ token: String, _ entry: Entry, now: Double) {
        let capacity = capacityPerShard
        shard(for: token).entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = entry
        }
    }

    func remove(_ token: String) {
        _ = shard(for: token).entries.withLock { $0.removeValue(forKey: token) }
    }

    private func shard(for token: String) -> Shard {
        shards[Int(UInt(bitPattern: token.hashValue) % UInt(shards.count))]
    }
}
