/// Everything needed to recompute a draw offline (docs/contract.md, "Draw protocol v1"), served at
/// `GET /v1/drops/{id}/audit` and checked by `fastest-shop verify` and
/// `scripts/draw_reference.py --check`.
///
/// JSON keys: `protocol`, `drop_id`, `commitment`, `seed` (hex), `beacon`, `entries_digest`, `stock`,
/// `waitlist_depth`, `entries` (`[[user_id, tickets], …]`), `winners`, `waitlist`.
public struct AuditBundle: Sendable, Equatable {
    /// `"fastest-shop/draw/v1"` for this protocol.
    public var protocolName: String
    public var dropID: Int
    public var commitment: String
    public var seed: [UInt8]
    public var beacon: String
    public var entriesDigest: String
    public var stock: Int
    public var waitlistDepth: Int
    /// Held flat (see ``CanonicalEntries``).
    public var canonicalEntries: CanonicalEntries
    /// The entries as values (small bundles: tests, tools).
    public var entries: [DrawEntry] {
        get { canonicalEntries.entries }
        set { canonicalEntries = CanonicalEntries(newValue) }
    }
    public var winners: [Int]
    public var waitlist: [Int]

    public init(
        protocolName: String, dropID: Int, commitment: String, seed: [UInt8], beacon: String,
        entriesDigest: String, stock: Int, waitlistDepth: Int, entries: [DrawEntry], winners: [Int],
        waitlist: [Int]
    ) {
        self.init(
            protocolName: protocolName, dropID: dropID, commitment: commitment, seed: seed, beacon: beacon,
            entriesDigest: entriesDigest, stock: stock, waitlistDepth: waitlistDepth, entries: CanonicalEntries(entries),
            winners: winners, waitlist: waitlist)
    }

    public init(
        protocolName: String, dropID: Int, commitment: String, seed: [UInt8], beacon: String,
        entriesDigest: String, stock: Int, waitlistDepth: Int, entries: CanonicalEntries, winners: [Int],
        waitlist: [Int]
    ) {
        self.protocolName = protocolName
        self.dropID = dropID
        self.commitment = commitment
        self.seed = seed
        self.beacon = beacon
        self.entriesDigest = entriesDigest
        self.stock = stock
        self.waitlistDepth = waitlistDepth
        self.canonicalEntries = entries
        self.winners = winners
        self.waitlist = waitlist
    }

    /// The bundle publishing a draw that protocol v1 computed from `input`.
    public init(input: DrawInput, result: DrawResult) {
        self.init(
            protocolName: DrawProtocolV1.identifier, dropID: input.dropID,
            commitment: DrawProtocolV1.commitment(seed: input.seed), seed: input.seed, beacon: input.beacon,
            entriesDigest: result.entriesDigest, stock: input.stock, waitlistDepth: input.waitlistDepth,
            entries: input.canonicalEntries, winners: result.winners, waitlist: result.waitlist)
    }

    /// The draw input this bundle claims its result came from.
    public var drawInput: DrawInput {
        DrawInput(dropID: dropID, seed: seed, beacon: beacon, entries: canonicalEntries, stock: stock, waitlistDepth: waitlistDepth)
    }
}
