/// How a drop allocates its units (docs/contract.md, "What the product is").
public enum DropKind: String, Sendable, Codable, CaseIterable {
    /// Enter during a window, one entry each; winners drawn at close, the rest waitlisted.
    case draw
    /// Like a draw, with 1...max_tickets tickets per customer; odds proportional to tickets.
    case raffle
    /// First come, first served once open; one unit per customer.
    case openRun = "open_run"

    /// Whether the drop is decided by draw protocol v1 (and so has a seed and commitment).
    public var isDrawn: Bool { self != .openRun }
}
