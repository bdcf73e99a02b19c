import Foundation

/// A drop to create, validated against every rule of docs/contract.md, "What the product is", and the
/// schema's CHECKs, so the database never has to reject what the API accepted.
public struct NewDrop: Sendable, Equatable {
    public let productID: Int
    public let kind: DropKind
    public let stock: Int
    public let opensAt: Date
    public let closesAt: Date?
    public let maxTickets: Int
    public let waitlistDepth: Int

    public static let stockRange = 1...1_000_000
    public static let maxTicketsRange = 1...1_000_000
    public static let waitlistDepthRange = 0...1_000_000

    /// Fields are optional so that a missing one is reported with the others, not alone.
    /// `waitlistDepth` defaults to `stock` for draws and raffles: one full round of backups for
    /// units whose payment fails.
    public init(
        productID: Int?, kind: DropKind?, stock: Int?, opensAt: Date?, closesAt: Date?,
        maxTickets: Int?, waitlistDepth: Int?, now: Date
    ) throws {
        var issues: [ValidationIssue] = []
        func require<T>(_ value: T?, _ field: String) -> T? {
            if value == nil { issues.append(ValidationIssue(field: field, message: "is required")) }
            return value
        }
        let productID = require(productID, "product_id")
        if let productID, productID < 1 {
            issues.append(ValidationIssue(field: "product_id", message: "must be a product id"))
        }
        let kind = require(kind, "kind")
        let stock = require(stock, "stock")
        if let stock, !Self.stockRange.contains(stock) {
            issues.append(ValidationIssue(field: "stock", message: "must be between 1 and \(Self.stockRange.upperBound)"))
        }
        let opensAt = require(opensAt, "opens_at")
        if let closesAt {
            if let opensAt, closesAt <= opensAt {
                issues.append(ValidationIssue(field: "closes_at", message: "must be after opens_at"))
            } else if closesAt <= now {
                issues.append(ValidationIssue(field: "closes_at", message: "must be in the future"))
            }
        } else if kind?.isDrawn == true {
            issues.append(ValidationIssue(field: "closes_at", message: "is required for a \(kind!.rawValue)"))
        }
        switch kind {
        case .raffle:
            if let maxTickets = require(maxTickets, "max_tickets"), !Self.maxTicketsRange.contains(maxTickets) {
                issues.append(ValidationIssue(field: "max_tickets", message: "must be between 1 and \(Self.maxTicketsRange.upperBound)"))
            }
        case .draw, .openRun:
            if let maxTickets, maxTickets != 1 {
                issues.append(ValidationIssue(field: "max_tickets", message: "only raffles take more than one ticket"))
            }
        case nil:
            break
        }
        if let waitlistDepth {
            if kind == .openRun && waitlistDepth != 0 {
                issues.append(ValidationIssue(field: "waitlist_depth", message: "an open-run has no waitlist"))
            } else if !Self.waitlistDepthRange.contains(waitlistDepth) {
                issues.append(ValidationIssue(field: "waitlist_depth", message: "must be between 0 and \(Self.waitlistDepthRange.upperBound)"))
            }
        }
        try ValidationFailure.check(issues)
        self.productID = productID!
        self.kind = kind!
        self.stock = stock!
        self.opensAt = opensAt!
        self.closesAt = closesAt
        self.maxTickets = maxTickets ?? 1
        self.waitlistDepth = waitlistDepth ?? (kind!.isDrawn ? stock! : 0)
    }
}

extension DropStatus {
    /// Where a new drop starts: a drop whose opening time has already come is open at once
    /// rather than waiting for the scheduler's next tick.
    public static func initial(opensAt: Date, now: Date) -> DropStatus {
        opensAt <= now ? .open : .scheduled
    }
}
