import Foundation

/// A drop as stored: one product, a stock of units, a window and an allocation kind.
public struct Drop: Sendable, Equatable {
    public var id: Int
    public var productID: Int
    public var kind: DropKind
    public var status: DropStatus
    public var stock: Int
    public var available: Int
    public var held: Int
    public var sold: Int
    public var opensAt: Date
    public var closesAt: Date?
    public var maxTickets: Int
    public var waitlistDepth: Int
    /// The product's price when the drop was created, locked for every order of the drop.
    public var priceCents: Int
    public var currency: String
    /// hex(SHA-256(seed)), published at creation (draw/raffle only).
    public var commitment: String?
    /// Revealed only once the drop is drawn.
    public var seed: [UInt8]?
    public var beacon: String
    public var entriesDigest: String?
    public var drawnAt: Date?
    public var createdAt: Date

    public init(
        id: Int, productID: Int, kind: DropKind, status: DropStatus, stock: Int, available: Int,
        held: Int, sold: Int, opensAt: Date, closesAt: Date?, maxTickets: Int, waitlistDepth: Int,
        commitment: String?, seed: [UInt8]?, beacon: String, entriesDigest: String?, drawnAt: Date?,
        createdAt: Date, priceCents: Int = 0, currency: String = "EUR"
    ) {
        self.id = id
        self.productID = productID
        self.kind = kind
        self.status = status
        self.stock = stock
        self.available = available
        self.held = held
        self.sold = sold
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.maxTickets = maxTickets
        self.waitlistDepth = waitlistDepth
        self.commitment = commitment
        self.seed = seed
        self.beacon = beacon
        self.entriesDigest = entriesDigest
        self.drawnAt = drawnAt
        self.createdAt = createdAt
        self.priceCents = priceCents
        self.currency = currency
    }

    /// The seed may be shown only after the draw; before that it would let anyone predict winners.
    public var revealedSeed: [UInt8]? {
        switch status {
        case .drawn, .settled: return kind.isDrawn ? seed : nil
        default: return nil
        }
    }
}

/// A drop with its entry count (the sum of every writer's counter row).
public struct DropOverview: Sendable, Equatable {
    public var drop: Drop
    public var entryCount: Int

    public init(drop: Drop, entryCount: Int) {
        self.drop = drop
        self.entryCount = entryCount
    }
}
