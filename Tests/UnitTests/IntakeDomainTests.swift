import Foundation
import ShopDomain
import Testing

@Suite struct IntakeDomainTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func emailsAreNormalisedAndChecked() {
        #expect(EmailAddress("  Ann@Example.COM ")?.normalized == "ann@example.com")
        #expect(EmailAddress("ann@example") == nil)
        #expect(EmailAddress("@example.com") == nil)
        #expect(EmailAddress("a b@example.com") == nil)
        #expect(EmailAddress("a@b@example.com") == nil)
        #expect(EmailAddress(String(repeating: "a", count: 250) + "@x.io") == nil)
    }

    @Test func passwordsFitBcrypt() {
        #expect(PasswordPolicy.issues("12345678").isEmpty)
        #expect(PasswordPolicy.issues("1234567").map(\.field) == ["password"])
        #expect(PasswordPolicy.issues(String(repeating: "é", count: 37)).map(\.field) == ["password"])
    }

    @Test func productRulesReportEveryField() throws {
        #expect(throws: Never.self) { try NewProduct(name: "Shoe", priceCents: 0, currency: "EUR") }
        let failure = try #require(throws: ValidationFailure.self) { try NewProduct(name: " ", priceCents: -5, currency: "eur") }
        #expect(failure.issues.map(\.field) == ["name", "price_cents", "currency"])
        #expect(throws: ValidationFailure.self) { try ProductChanges(name: nil, priceCents: nil, currency: nil) }
        #expect(try ProductChanges(name: nil, priceCents: 5, currency: nil).priceCents == 5)
    }

    func drop(
        kind: DropKind? = .draw, stock: Int? = 10, opensAt: Date? = nil, closesAt: Date?? = nil, maxTickets: Int? = nil,
        waitlistDepth: Int? = nil
    ) throws -> NewDrop {
        try NewDrop(
            productID: 1, kind: kind, stock: stock, opensAt: opensAt ?? now.addingTimeInterval(60),
            closesAt: closesAt ?? now.addingTimeInterval(3600), maxTickets: maxTickets, waitlistDepth: waitlistDepth, now: now)
    }

    func fields(_ body: () throws -> NewDrop) -> [String] {
        do {
            _ = try body()
            return []
        } catch let failure as ValidationFailure {
            return failure.issues.map(\.field)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func dropRulesFollowTheKind() throws {
        #expect(try drop().waitlistDepth == 10)
        #expect(try drop(kind: .raffle, maxTickets: 4).maxTickets == 4)
        #expect(try drop(kind: .openRun, closesAt: .some(nil)).waitlistDepth == 0)
        #expect(fields { try drop(kind: .draw, closesAt: .some(nil)) } == ["closes_at"])
        #expect(fields { try drop(kind: .raffle) } == ["max_tickets"])
        #expect(fields { try drop(kind: .draw, maxTickets: 2) } == ["max_tickets"])
        #expect(fields { try drop(kind: .openRun, closesAt: .some(nil), waitlistDepth: 3) } == ["waitlist_depth"])
        #expect(fields { try drop(stock: 0) } == ["stock"])
        #expect(fields { try drop(closesAt: now.addingTimeInterval(30)) } == ["closes_at"])
        #expect(fields { try drop(opensAt: now.addingTimeInterval(-7200), closesAt: now.addingTimeInterval(-3600)) } == ["closes_at"])
        #expect(fields { try drop(kind: nil, stock: nil) } == ["kind", "stock"])
    }

    @Test func aDropStartsOpenOnceItsOpeningHasCome() {
        #expect(DropStatus.initial(opensAt: now, now: now) == .open)
        #expect(DropStatus.initial(opensAt: now.addingTimeInterval(-1), now: now) == .open)
        #expect(DropStatus.initial(opensAt: now.addingTimeInterval(1), now: now) == .scheduled)
    }

    @Test func ticketsDependOnTheKind() throws {
        #expect(try EntryRules.tickets(requested: nil, kind: .raffle, maxTickets: 5) == 1)
        #expect(try EntryRules.tickets(requested: 5, kind: .raffle, maxTickets: 5) == 5)
        #expect(throws: ValidationFailure.self) { try EntryRules.tickets(requested: 6, kind: .raffle, maxTickets: 5) }
        #expect(throws: ValidationFailure.self) { try EntryRules.tickets(requested: 0, kind: .raffle, maxTickets: 5) }
        #expect(try EntryRules.tickets(requested: 1, kind: .draw, maxTickets: 1) == 1)
        #expect(throws: ValidationFailure.self) { try EntryRules.tickets(requested: 2, kind: .draw, maxTickets: 1) }
    }

    @Test func standingFollowsTheRanking() {
        for status in [DropStatus.scheduled, .open, .closing] {
            #expect(EntryStatus.of(dropStatus: status, stock: 2, place: RankingPlace(position: 0, orderID: nil)) == .entered)
        }
        #expect(EntryStatus.of(dropStatus: .drawn, stock: 2, place: RankingPlace(position: 1, orderID: nil)) == .won)
        #expect(EntryStatus.of(dropStatus: .drawn, stock: 2, place: RankingPlace(position: 2, orderID: nil)) == .waitlisted)
        #expect(EntryStatus.of(dropStatus: .settled, stock: 2, place: RankingPlace(position: 5, orderID: 9)) == .won)
        #expect(EntryStatus.of(dropStatus: .drawn, stock: 2, place: nil) == .lost)
    }
}
