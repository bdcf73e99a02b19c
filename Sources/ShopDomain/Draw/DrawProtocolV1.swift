import Crypto
import TextEncodings

/// Draw protocol v1 (docs/contract.md, "Draw protocol v1"): commitment, canonical entries digest, and
/// the ranking.
///
/// Every step is deterministic given the seed, the drop id, the entries and the beacon, so anyone
/// holding the audit bundle recomputes the same winners (`scripts/draw_reference.py` does so
/// independently, and the unit tests pin vectors it produced).
public enum DrawProtocolV1 {
    public static let identifier = "fastest-shop/draw/v1"
    public static let seedByteCount = 32

    /// `hex(SHA-256(seed))`, published when the drop is created.
    public static func commitment(seed: [UInt8]) -> String {
        SHA256.hash(data: seed).lowercaseHex
    }

    /// A fresh 32-byte seed from the operating system's CSPRNG.
    public static func makeSeed() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<seedByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Step 2: `hex(SHA-256)` of the lines `"<user_id>:<tickets>\n"` of `entries`, in the order given
    /// (the canonical order is ascending `userID`).
    public static func entriesDigest(_ entries: [DrawEntry]) -> String {
        var digester = EntriesDigester()
        for entry in entries {
            digester.append(userID: entry.userID, tickets: entry.tickets)
        }
        return digester.finalize()
    }

    /// Steps 2 to 6: the ranking of `input.entries`, split into winners and waitlist.
    public static func draw(_ input: DrawInput) throws(DrawInputError) -> DrawResult {
        try draw(input, entriesDigest: input.canonicalEntries.digest)
    }

    /// Steps 3 to 6, for a caller that already streamed the entries through an ``EntriesDigester``.
    public static func draw(_ input: DrawInput, entriesDigest: String) throws(DrawInputError) -> DrawResult {
        try input.validate()
        guard entriesDigest.utf8.count == 64, [UInt8](lowercaseHex: entriesDigest) != nil else {
            throw DrawInputError(.invalidEntriesDigest, "the entries digest must be 64 lowercase hex digits")
        }
        let entries = input.canonicalEntries
        let slots = try TicketSlots(entries: entries)
        var words = DrawRandomWords(
            seed: input.seed, dropID: input.dropID, entriesDigest: entriesDigest, beacon: input.beacon)
        let (wanted, overflow) = input.stock.addingReportingOverflow(input.waitlistDepth)
        let rankingSize = overflow ? entries.count : min(entries.count, wanted)

        var ranking: [Int] = []
        ranking.reserveCapacity(rankingSize)
        var ranked = [Bool](repeating: false, count: entries.count)
        var shuffle = SparseShuffle(count: slots.total, expectedSteps: rankingSize)
        while ranking.count < rankingSize, let slot = shuffle.next(using: &words) {
            let entry = slots.entryIndex(ofSlot: slot)
            if !ranked[entry] {
                ranked[entry] = true
                ranking.append(entry)
            }
        }

        let userIDs = ranking.map { entries.userIDs[$0] }
        let winnerCount = min(input.stock, userIDs.count)
        return DrawResult(
            entriesDigest: entriesDigest,
            winners: Array(userIDs[..<winnerCount]),
            waitlist: Array(userIDs[winnerCount...]))
    }
}
