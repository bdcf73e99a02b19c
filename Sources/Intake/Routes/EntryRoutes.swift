import CoreMetrics
import Foundation
import Hummingbird
import Postgres
import ShopDomain
import Storage

/// Entries into draws and raffles: durable before the 201, committed in groups.
struct EntryRoutes: RouteGroup {
    let writer: EntryWriter
    let entries: EntryStore
    let metrics: IntakeMetrics

    func addRoutes(to routes: RouteRegistry) {
        routes.add(.post, "/v1/drops/{id}/entries", enter)
        routes.add(.get, "/v1/drops/{id}/entries/me", standing)
    }

    struct EntryBody: Decodable {
        let tickets: Int?
    }

    struct EntryDocument: Encodable {
        let entry: Entry
        let status: EntryStatus
        var place: RankingPlace? = nil
        var order: OrderDocument? = nil

        enum CodingKeys: String, CodingKey {
            case dropID = "drop_id"
            case userID = "user_id"
            case tickets, status
            case createdAt = "created_at"
            case position, order
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entry.dropID, forKey: .dropID)
            try container.encode(entry.userID, forKey: .userID)
            try container.encode(entry.tickets, forKey: .tickets)
            try container.encode(status.rawValue, forKey: .status)
            try container.encode(entry.createdAt, forKey: .createdAt)
            try container.encodeIfPresent(place?.position, forKey: .position)
            try container.encodeIfPresent(order, forKey: .order)
        }
    }

    /// 201 once the entry is committed; 200 with the same entry when the customer had already
    /// entered. The body is optional: without it a draw or raffle entry holds one ticket.
    @Sendable func enter(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.customer)
        let dropID = try context.id(of: "drop")
        // (Bounded by ``BodyLimitMiddleware``.)
        let tickets = try EntryBody.parse(try await request.body.collect(upTo: .max))?.tickets
        let outcome: EntryOutcome
        do {
            outcome = try await writer.submit(EntryRequest(dropID: dropID, userID: user.id, tickets: tickets))
        } catch let error as PostgresError
            where error.code == .foreignKeyViolation
            && error.constraint?.hasPrefix("entries_user_id_fkey") == true
        {
            // (Each drop's partition has its own copy of the key: entries_user_id_fkey1, …)
            // A token that verifies but names an account that no longer exists. Its batch was
            // split until this request stood alone; everyone else in it was committed.
            throw Problem(.unauthorized, "the account behind this access token no longer exists")
        }
        switch outcome {
        case .created(let entry):
            metrics.entriesAccepted.increment()
            return try EntryDocument(entry: entry, status: .entered).response(status: .created)
        case .existing(let entry):
            return try EntryDocument(entry: entry, status: .entered).response(status: .ok)
        case .notOpen:
            throw Problem(.notOpen, "the drop is not taking entries now")
        case .openRun:
            throw Problem(.notOpen, "an open-run takes purchases, not entries")
        case .noSuchDrop:
            throw Problem.notFound("drop")
        case .invalid(let failure):
            throw Problem.invalid(failure)
        }
    }

    /// The customer's standing: `entered` before the draw, then `won`, `waitlisted` or `lost`,
    /// with the order when a unit was offered.
    @Sendable func standing(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let user = try context.requireRole(.customer)
        let dropID = try context.id(of: "drop")
        guard let standing = try await entries.standing(dropID: dropID, userID: user.id) else {
            throw Problem(.notFound, "you have no entry in this drop")
        }
        return try .json(
            EntryDocument(
                entry: standing.entry, status: standing.status, place: standing.place, order: standing.order.map(OrderDocument.init)))
    }
}
