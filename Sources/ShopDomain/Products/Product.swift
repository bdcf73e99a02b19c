import Foundation

/// Something a drop sells: a name and a price in one currency.
public struct Product: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var priceCents: Int
    public var currency: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int, name: String, priceCents: Int, currency: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The rules every product field follows, shared by creation and partial updates.
public enum ProductRules {
    public static let nameLengths = 1...200
    public static let maximumPriceCents = 100_000_000_000

    public static func nameIssues(_ name: String) -> [ValidationIssue] {
        let control = ControlCharacters.issues(name, field: "name")
        if !control.isEmpty { return control }
        // Counted in code points, as PostgreSQL's length() counts them in the table's CHECK: counted
        // in grapheme clusters, 200 letters with combining accents passed here and failed there.
        let scalars = name.unicodeScalars
        return nameLengths.contains(scalars.count) && !scalars.allSatisfy(\.properties.isWhitespace)
            ? [] : [ValidationIssue(field: "name", message: "must be 1 to 200 characters, not only spaces")]
    }

    public static func priceIssues(_ priceCents: Int) -> [ValidationIssue] {
        (0...maximumPriceCents).contains(priceCents)
            ? [] : [ValidationIssue(field: "price_cents", message: "must be between 0 and \(maximumPriceCents)")]
    }

    /// ISO 4217 style: three upper-case letters.
    public static func currencyIssues(_ currency: String) -> [ValidationIssue] {
        currency.utf8.count == 3 && currency.utf8.allSatisfy({ (65...90).contains($0) })
            ? [] : [ValidationIssue(field: "currency", message: "must be three upper-case letters (ISO 4217), e.g. EUR")]
    }
}

/// A product to create, validated.
public struct NewProduct: Sendable, Equatable {
    public let name: String
    public let priceCents: Int
    public let currency: String

    public init(name: String, priceCents: Int, currency: String) throws {
        try ValidationFailure.check(
            ProductRules.nameIssues(name) + ProductRules.priceIssues(priceCents) + ProductRules.currencyIssues(currency))
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
    }
}

/// A partial update; absent fields stay as they are.
public struct ProductChanges: Sendable, Equatable {
    public let name: String?
    public let priceCents: Int?
    public let currency: String?

    public init(name: String?, priceCents: Int?, currency: String?) throws {
        var issues: [ValidationIssue] = []
        if let name { issues += ProductRules.nameIssues(name) }
        if let priceCents { issues += ProductRules.priceIssues(priceCents) }
        if let currency { issues += ProductRules.currencyIssues(currency) }
        if name == nil && priceCents == nil && currency == nil {
            issues.append(ValidationIssue(field: "body", message: "must change at least one of name, price_cents, currency"))
        }
        try ValidationFailure.check(issues)
        self.name = name
        self.priceCents = priceCents
        self.currency = currency
    }
}
