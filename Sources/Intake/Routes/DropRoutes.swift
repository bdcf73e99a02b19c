import Foundation
import Hummingbird
import OpenRunGate
import ShopDomain
import Storage
import TextEncodings

/// Drops: operators create them; anyone reads one. (Listing them: ``ListingRoutes``.)
struct DropRoutes: RouteGroup {
    let drops: DropStore
    /// The same store on the public-read pool, for anyone's reads.
    let publicDrops: DropStore
    let gate: AdmissionGate
    let localReads: CacheInvalidations

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/drops", create)
        routes.add(.get, "/v1/drops/{id}", read)
    }

    struct DropBody: Decodable {
        let productID: Int?
        let kind: String?
        let stock: Int?
        let opensAt: String?
        let closesAt: String?
        let maxTickets: Int?
        let waitlistDepth: Int?
        enum CodingKeys: String, CodingKey {
            case productID = "product_id"
            case kind, stock
            case opensAt = "opens_at"
            case closesAt = "closes_at"
            case maxTickets = "max_tickets"
            case waitlistDepth = "waitlist_depth"
        }
    }

    @Sendable func create(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.operator)
        let body = try await request.decodeJSON(as: DropBody.self)
        let new = try Self.validate(body, now: Date())
        let created = try await drops.create(new, createdBy: user.id)
        // Purchases sent to this id before it existed were remembered as unknown; the memory
        // expires by itself, this only ends it sooner.
        try? await gate.forgetUnknown(dropID: created.drop.id)
        return try .json(DropDocument(created), status: .created)
    }

    /// The earliest opening or closing time a drop takes (the OpenAPI document's year pattern).
    static let earliestTimestamp = Date(timeIntervalSince1970: 0)

    /// Parses what JSON cannot type (kind, timestamps) and applies the domain's rules, reporting
    /// every issue at once; a field that failed to parse is not also reported as missing.
    static func validate(_ body: DropBody, now: Date) throws -> NewDrop {
        var parseIssues: [ValidationIssue] = []
        let kind = body.kind.flatMap { text in
            let kind = DropKind(rawValue: text)
            if kind == nil {
                parseIssues.append(ValidationIssue(field: "kind", message: "must be one of draw, raffle, open_run"))
            }
            return kind
        }
        func timestamp(_ text: String?, _ field: String) -> Date? {
            guard let text else { return nil }
            guard let date = Timestamp.parse(text) else {
                parseIssues.append(ValidationIssue(field: field, message: "must be an RFC 3339 timestamp with a time zone"))
                return nil
            }
            // Foundation reads dates before 1582 in the Julian calendar and PostgreSQL has no
            // year 0: such a time failed as a 500 or was stored days off. No drop needs one.
            guard date >= Self.earliestTimestamp else {
                parseIssues.append(ValidationIssue(field: field, message: "must be in 1970 or later"))
                return nil
            }
            return date
        }
        let opensAt = timestamp(body.opensAt, "opens_at")
        let closesAt = timestamp(body.closesAt, "closes_at")
        do {
            let new = try NewDrop(
                productID: body.productID, kind: kind, stock: body.stock, opensAt: opensAt, closesAt: closesAt,
                maxTickets: body.maxTickets, waitlistDepth: body.waitlistDepth, now: now)
            try ValidationFailure.check(parseIssues)
            return new
        } catch let failure as ValidationFailure {
            let parsedFields = Set(parseIssues.map(\.field))
            throw ValidationFailure(parseIssues + failure.issues.filter { !parsedFields.contains($0.field) })
        }
    }

    @Sendable func read(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let id = try context.id(of: "drop")
        let response = try await localReads.cachedJSON(
            key: CacheInvalidations.dropKey(id), onHit: {},
            load: { try await publicDrops.fetch(id: id).map { DropDocument($0) } })
        guard let response else { throw Problem.notFound("drop") }
        return response
    }
}

/// A drop as the API shows it. The seed, beacon and entries digest appear only once the drop
/// is drawn (``Drop/revealedSeed``): before that the seed would let anyone predict the winners.
struct DropDocument: Encodable {
    let overview: DropOverview

    init(_ overview: DropOverview) { self.overview = overview }

    enum CodingKeys: String, CodingKey {
        case id
        case productID = "product_id"
        case kind, status, stock, available, held, sold
        case opensAt = "opens_at"
        case closesAt = "closes_at"
        case maxTickets = "max_tickets"
        case waitlistDepth = "waitlist_depth"
        case entryCount = "entry_count"
        case commitment, seed, beacon
        case entriesDigest = "entries_digest"
        case drawnAt = "drawn_at"
        case createdAt = "created_at"
        case priceCents = "price_cents"
        case currency
    }

    func encode(to encoder: any Encoder) throws {
        let drop = overview.drop
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(drop.id, forKey: .id)
        try container.encode(drop.productID, forKey: .productID)
        try container.encode(drop.kind.rawValue, forKey: .kind)
        try container.encode(drop.status.rawValue, forKey: .status)
        try container.encode(drop.priceCents, forKey: .priceCents)
        try container.encode(drop.currency, forKey: .currency)
        try container.encode(drop.stock, forKey: .stock)
        try container.encode(drop.available, forKey: .available)
        try container.encode(drop.held, forKey: .held)
        try container.encode(drop.sold, forKey: .sold)
        try container.encode(drop.opensAt, forKey: .opensAt)
        try container.encodeIfPresent(drop.closesAt, forKey: .closesAt)
        try container.encode(drop.maxTickets, forKey: .maxTickets)
        try container.encode(drop.waitlistDepth, forKey: .waitlistDepth)
        try container.encode(overview.entryCount, forKey: .entryCount)
        try container.encode(drop.createdAt, forKey: .createdAt)
        try container.encodeIfPresent(drop.commitment, forKey: .commitment)
        if let seed = drop.revealedSeed {
            try container.encode(seed.lowercaseHex, forKey: .seed)
            try container.encode(drop.beacon, forKey: .beacon)
            try container.encodeIfPresent(drop.entriesDigest, forKey: .entriesDigest)
            try container.encodeIfPresent(drop.drawnAt, forKey: .drawnAt)
        }
    }
}
