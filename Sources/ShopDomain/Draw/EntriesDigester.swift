import Crypto
import TextEncodings

/// Computes the canonical entries digest (docs/contract.md, "Draw protocol v1", step 2) one entry at a
/// time, so a caller streaming a million entries out of the database hashes them as they arrive.
///
/// Entries must be appended in canonical order (ascending `userID`); the digester does not sort.
public struct EntriesDigester: Sendable {
    /// Lines are batched so the hash function sees a few large updates instead of many tiny ones.
    private static let batchSize = 64 * 1024

    private var hash = SHA256()
    private var pending: [UInt8] = []

    public init() {
        pending.reserveCapacity(Self.batchSize + 48)
    }

    /// Adds the line `"<userID>:<tickets>\n"`.
    public mutating func append(userID: Int, tickets: Int) {
        pending.appendDecimal(userID)
        pending.append(UInt8(ascii: ":"))
        pending.appendDecimal(tickets)
        pending.append(UInt8(ascii: "\n"))
        if pending.count >= Self.batchSize {
            hash.update(data: pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// The lowercase hex digest of every line appended so far.
    public func finalize() -> String {
        var hash = hash
        hash.update(data: pending)
        return hash.finalize().lowercaseHex
    }
}
