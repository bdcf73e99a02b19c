/// One customer's entry in a draw or raffle: draws have one ticket, raffles 1...max_tickets.
public struct DrawEntry: Sendable, Hashable {
    public let userID: Int
    public let tickets: Int

    public init(userID: Int, tickets: Int) {
        self.userID = userID
        self.tickets = tickets
    }
}
