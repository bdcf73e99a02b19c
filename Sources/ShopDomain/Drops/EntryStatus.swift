/// A customer's standing in a draw or raffle (`GET /v1/drops/{id}/entries/me`).
public enum EntryStatus: String, Sendable, Codable {
    /// Entered; the drop has not been drawn yet.
    case entered
    /// Drawn as a winner, or promoted from the waitlist: the customer has (or had) an order.
    case won
    /// On the waitlist, not (yet) offered a unit.
    case waitlisted
    /// Not ranked: the drop was drawn and this entry was not picked.
    case lost
}
