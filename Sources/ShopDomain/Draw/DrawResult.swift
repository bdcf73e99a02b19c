/// The outcome of a draw: user ids in ranking order.
public struct DrawResult: Sendable, Equatable {
    public var entriesDigest: String
    /// The first `stock` entries of the ranking.
    public var winners: [Int]
    /// The rest of the ranking, offered a unit in this order when a winner's payment fails.
    public var waitlist: [Int]

    public init(entriesDigest: String, winners: [Int], waitlist: [Int]) {
        self.entriesDigest = entriesDigest
        self.winners = winners
        self.waitlist = waitlist
    }
}
