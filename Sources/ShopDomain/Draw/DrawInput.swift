/// Everything draw protocol v1 needs to rank a drop's entries.
public struct DrawInput: Sendable {
    public var dropID: Int
    /// The 32-byte secret whose SHA-256 was published as the commitment.
    public var seed: [UInt8]
    /// Public randomness fixed after the entries froze; empty when there is none.
    public var beacon: String
    /// In canonical order: strictly ascending `userID`; held flat (see ``CanonicalEntries``).
    public var canonicalEntries: CanonicalEntries
    /// The entries as values (small inputs: tests, tools).
    public var entries: [DrawEntry] {
        get { canonicalEntries.entries }
        set { canonicalEntries = CanonicalEntries(newValue) }
    }
    public var stock: Int
    public var waitlistDepth: Int

    public init(dropID: Int, seed: [UInt8], beacon: String, entries: [DrawEntry], stock: Int, waitlistDepth: Int) {
        self.init(
            dropID: dropID, seed: seed, beacon: beacon, entries: CanonicalEntries(entries), stock: stock,
            waitlistDepth: waitlistDepth)
    }

    public init(dropID: Int, seed: [UInt8], beacon: String, entries: CanonicalEntries, stock: Int, waitlistDepth: Int) {
        self.dropID = dropID
        self.seed = seed
        self.beacon = beacon
        self.canonicalEntries = entries
        self.stock = stock
        self.waitlistDepth = waitlistDepth
    }

    /// The checks that do not need a pass over the entries (``TicketSlots`` makes that pass).
    func validate() throws(DrawInputError) {
        guard seed.count == DrawProtocolV1.seedByteCount else {
            throw DrawInputError(.invalidSeed, "the seed is \(seed.count) bytes; it must be \(DrawProtocolV1.seedByteCount)")
        }
        guard stock >= 1 else {
            throw DrawInputError(.invalidStock, "stock is \(stock); it must be at least 1")
        }
        guard waitlistDepth >= 0 else {
            throw DrawInputError(.invalidWaitlistDepth, "waitlist depth is \(waitlistDepth); it must be at least 0")
        }
    }
}
