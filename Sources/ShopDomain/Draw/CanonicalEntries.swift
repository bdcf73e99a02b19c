/// A drop's entries in canonical order (docs/contract.md, "Draw protocol v1", step 2), held flat: one
/// user id and one running ticket sum per entry, 16 bytes each, and no object per entry. Ten million
/// entries are two arrays of 80 MB that the draw's ticket slots share rather than copy.
///
/// Appending does not refuse anything (a bundle under verification may be wrong); the checks run
/// when a draw uses the entries (``TicketSlots``) or the verifier asks (``canonicalOrderProblem``).
public struct CanonicalEntries: Sendable, Equatable {
    public private(set) var userIDs: [Int] = []
    /// `ticketEnds[k]` = tickets of entries `0...k` (wrapping; ``ticketsOverflowed`` says so).
    public private(set) var ticketEnds: [Int] = []
    /// Set once the running sum no longer fits in 64 bits.
    public private(set) var ticketsOverflowed = false

    public init() {}

    public init(_ entries: some Sequence<DrawEntry>) {
        for entry in entries { append(userID: entry.userID, tickets: entry.tickets) }
    }

    public mutating func reserveCapacity(_ count: Int) {
        userIDs.reserveCapacity(count)
        ticketEnds.reserveCapacity(count)
    }

    public mutating func append(userID: Int, tickets: Int) {
        let (sum, overflow) = totalTickets.addingReportingOverflow(tickets)
        if overflow { ticketsOverflowed = true }
        userIDs.append(userID)
        ticketEnds.append(sum)
    }

    public var count: Int { userIDs.count }
    public var isEmpty: Bool { userIDs.isEmpty }
    public var totalTickets: Int { ticketEnds.last ?? 0 }

    public func tickets(at index: Int) -> Int {
        index == 0 ? ticketEnds[0] : ticketEnds[index] &- ticketEnds[index - 1]
    }

    public subscript(index: Int) -> DrawEntry {
        DrawEntry(userID: userIDs[index], tickets: tickets(at: index))
    }

    /// The entries as values, for small lists (tests, tools); large ones stay flat.
    public var entries: [DrawEntry] { (0..<count).map { self[$0] } }

    /// `hex(SHA-256)` of the canonical lines, in the order held.
    public var digest: String {
        var digester = EntriesDigester()
        for index in 0..<count { digester.append(userID: userIDs[index], tickets: tickets(at: index)) }
        return digester.finalize()
    }
}
