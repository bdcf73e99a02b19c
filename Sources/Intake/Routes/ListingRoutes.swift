import Foundation
import Hummingbird
import ShopDomain
import Storage

/// The listings customers' front ends need (docs/contract.md, "HTTP API"): drops open or coming, and a
/// customer's own entries and orders, newest first. Every listing is paged by keyset: a page names where
/// the next one starts (`next_after`), so rows written between two pages neither repeat nor vanish.
struct ListingRoutes: RouteGroup {
    /// A customer's own entries and orders (the request pool: a customer about to pay needs them).
    let listings: ListingStore
    /// The drop listing, anyone's read, on the public-read pool.
    let publicListings: ListingStore

    static let defaultPageSize = 100
    static let maximumPageSize = 500
    /// What anyone may list; the other statuses are the operators' view.
    static let publicStatuses: [DropStatus] = [.open, .scheduled]

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.get, "/v1/drops", drops)
        routes.add(.get, "/v1/me/entries", myEntries)
        routes.add(.get, "/v1/me/orders", myOrders)
    }

    /// Drops in id order. Without `status`, anyone gets the open and scheduled drops and an
    /// operator every drop; a status other than open or scheduled is for operators only.
    @Sendable func drops(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var issues: [ValidationIssue] = []
        let after = PageQuery.integerCursor(query["after"].map(String.init), issues: &issues) ?? 0
        let limit = PageQuery.limit(query["limit"].map(String.init), issues: &issues)
        let status = query["status"].map { DropStatus(rawValue: String($0)) }
        if status == .some(nil) {
            issues.append(ValidationIssue(field: "status", message: "must be a drop status"))
        }
        try ValidationFailure.check(issues)
        let isOperator = context.user?.role == .operator
        let statuses: [DropStatus]?
        switch (status ?? nil, isOperator) {
        case (let status?, true): statuses = [status]
        case (nil, true): statuses = nil
        case (let status?, false):
            guard Self.publicStatuses.contains(status) else {
                throw Problem(.forbidden, "listing \(status.rawValue) drops needs the operator role")
            }
            statuses = [status]
        case (nil, false): statuses = Self.publicStatuses
        }
        let page = try await publicListings.drops(statuses: statuses, afterID: after, limit: limit)
        return try .json(DropPage(drops: page.map(DropDocument.init), nextAfter: page.count == limit ? page.last?.drop.id : nil))
    }

    @Sendable func myEntries(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.customer)
        let query = request.uri.queryParameters
        var issues: [ValidationIssue] = []
        var cursor: EntryCursor?
        if let text = query["after"].map(String.init) {
            cursor = EntryCursor(text)
            if cursor == nil { issues.append(ValidationIssue(field: "after", message: "must be a next_after of this listing")) }
        }
        let limit = PageQuery.limit(query["limit"].map(String.init), issues: &issues)
        try ValidationFailure.check(issues)
        let page = try await listings.entries(userID: user.id, after: cursor, limit: limit)
        return try .json(
            EntryPage(
                entries: page.map {
                    EntryRoutes.EntryDocument(
                        entry: $0.standing.entry, status: $0.standing.status, place: $0.standing.place,
                        order: $0.standing.order.map(OrderDocument.init))
                },
                nextAfter: page.count == limit ? page.last?.cursor.description : nil))
    }

    @Sendable func myOrders(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.customer)
        let query = request.uri.queryParameters
        var issues: [ValidationIssue] = []
        let before = PageQuery.integerCursor(query["after"].map(String.init), issues: &issues)
        let limit = PageQuery.limit(query["limit"].map(String.init), issues: &issues)
        try ValidationFailure.check(issues)
        let page = try await listings.orders(userID: user.id, beforeID: before, limit: limit)
        return try .json(OrderPage(orders: page.map(OrderDocument.init), nextAfter: page.count == limit ? page.last?.id : nil))
    }

    struct DropPage: Encodable {
        let drops: [DropDocument]
        let nextAfter: Int?
        enum CodingKeys: String, CodingKey {
            case drops
            case nextAfter = "next_after"
        }
    }

    struct EntryPage: Encodable {
        let entries: [EntryRoutes.EntryDocument]
        let nextAfter: String?
        enum CodingKeys: String, CodingKey {
            case entries
            case nextAfter = "next_after"
        }
    }

    struct OrderPage: Encodable {
        let orders: [OrderDocument]
        let nextAfter: Int?
        enum CodingKeys: String, CodingKey {
            case orders
            case nextAfter = "next_after"
        }
    }
}

/// The paging parameters every listing shares: `limit` (1…500, 100 by default) and an integer
/// `after` cursor.
enum PageQuery {
    static func limit(_ text: String?, issues: inout [ValidationIssue]) -> Int {
        guard let text else { return ListingRoutes.defaultPageSize }
        guard let limit = Int(text), (1...ListingRoutes.maximumPageSize).contains(limit) else {
            issues.append(ValidationIssue(field: "limit", message: "must be between 1 and \(ListingRoutes.maximumPageSize)"))
            return ListingRoutes.defaultPageSize
        }
        return limit
    }

    /// An id cursor (`after`), nil when absent.
    static func integerCursor(_ text: String?, issues: inout [ValidationIssue]) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0 else {
            issues.append(ValidationIssue(field: "after", message: "must be an id (the previous page's next_after)"))
            return nil
        }
        return value
    }
}
