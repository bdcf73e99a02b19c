/// A draw input that protocol v1 cannot rank. The description names the offending value and is
/// safe to show: it never contains the seed.
public struct DrawInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidSeed = "invalid-seed"
        case invalidStock = "invalid-stock"
        case invalidWaitlistDepth = "invalid-waitlist-depth"
        case invalidEntriesDigest = "invalid-entries-digest"
        case entriesNotAscending = "entries-not-ascending"
        case invalidTickets = "invalid-tickets"
        case tooManyTickets = "too-many-tickets"
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
