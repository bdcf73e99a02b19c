import Foundation

/// A customer's entry in a draw or raffle: one per customer per drop.
public struct Entry: Sendable, Equatable {
    public var dropID: Int
    public var userID: Int
    public var tickets: Int
    public var createdAt: Date

    public init(dropID: Int, userID: Int, tickets: Int, createdAt: Date) {
        self.dropID = dropID
        self.userID = userID
        self.tickets = tickets
        self.createdAt = createdAt
    }
}

/// The entry rules that depend on the drop (docs/contract.md, "What the product is").
public enum EntryRules {
    /// The tickets an entry holds: draws exactly one, raffles 1...max_tickets (one when not
    /// given). Open-runs take no entries; callers refuse those before asking.
    public static func tickets(requested: Int?, kind: DropKind, maxTickets: Int) throws -> Int {
        let tickets = requested ?? 1
        switch kind {
        case .raffle where !(1...maxTickets).contains(tickets):
            throw ValidationFailure([ValidationIssue(field: "tickets", message: "must be between 1 and \(maxTickets)")])
        case .draw where tickets != 1, .openRun where tickets != 1:
            throw ValidationFailure([ValidationIssue(field: "tickets", message: "must be 1: only raffles take more tickets")])
        default:
            return tickets
        }
    }
}

/// Where an entry stands in a drawn drop's ranking (`drop_rankings`).
public struct RankingPlace: Sendable, Equatable {
    public var position: Int
    public var orderID: Int?

    public init(position: Int, orderID: Int?) {
        self.position = position
        self.orderID = orderID
    }
}

extension EntryStatus {
    /// The customer's standing: `entered` until the draw; afterwards a ranked entry that was
    /// offered a unit (it has an order) or sits within the stock won, another ranked entry is
    /// waitlisted, and an unranked entry lost.
    public static func of(dropStatus: DropStatus, stock: Int, place: RankingPlace?) -> EntryStatus {
        switch dropStatus {
        case .scheduled, .open, .closing, .closed:
            return .entered
        case .drawn, .settled:
            guard let place else { return .lost }
            return place.orderID != nil || place.position < stock ? .won : .waitlisted
        case .cancelled:
            // Cancelled after its draw: the ranking stands (the orders were voided or refunded).
            guard let place else { return .entered }
            return place.orderID != nil || place.position < stock ? .won : .waitlisted
        }
    }
}
