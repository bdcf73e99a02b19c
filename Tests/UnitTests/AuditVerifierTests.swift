import Testing

@testable import ShopDomain

@Suite struct AuditVerifierTests {
    /// The raffle vector, written from the reference script's output rather than from a Swift draw:
    /// echo '{"drop_id":7,"seed":"5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed","beacon":"","stock":2,"waitlist_depth":2,"entries":[[10,1],[20,5],[30,2],[40,10],[50,1],[60,3]]}' | python3 scripts/draw_reference.py -
    static let bundle = AuditBundle(
        protocolName: "fastest-shop/draw/v1", dropID: 7,
        commitment: "f9fa5c699354e46a448f75765ae99bf06741d541ab6c337c0f3722850adbb136",
        seed: (0..<16).flatMap { _ in [UInt8(0x5e), 0xed] }, beacon: "",
        entriesDigest: "7b7b11795da83d24193957c2d5c8744dafcc90d3e58cca29bc56ab061ba3c27e", stock: 2, waitlistDepth: 2,
        entries: [(10, 1), (20, 5), (30, 2), (40, 10), (50, 1), (60, 3)].map { DrawEntry(userID: $0.0, tickets: $0.1) },
        winners: [40, 60], waitlist: [30, 10])

    static func verify(_ change: (inout AuditBundle) -> Void) -> [String] {
        var bundle = Self.bundle
        change(&bundle)
        return AuditVerifier.verify(bundle)
    }

    @Test func acceptsTheReferenceDraw() {
        #expect(AuditVerifier.verify(Self.bundle) == [])
    }

    @Test func catchesATamperedSeed() {
        let mismatches = Self.verify { $0.seed[0] ^= 1 }
        #expect(mismatches.first?.hasPrefix("commitment f9fa5c69") == true)
    }

    @Test func catchesATamperedWinner() {
        let mismatches = Self.verify { $0.winners[1] = 20 }
        #expect(
            mismatches == [
                "winners differ at position 2 of 2: the bundle has user 20, the recomputation user 60"
            ])
    }

    @Test func catchesAnExtraWaitlistEntry() {
        let mismatches = Self.verify { $0.waitlist.append(50) }
        #expect(
            mismatches == [
                "waitlist differ at position 3 of 2: the bundle has user 50, the recomputation nothing"
            ])
    }

    @Test func catchesAReorderedEntryList() {
        let mismatches = Self.verify { $0.entries.swapAt(0, 1) }
        #expect(mismatches.count == 3)
        #expect(mismatches.first == "entries are not canonical: entry 1 (user 10) comes after user 20; user ids must ascend")
        #expect(mismatches.contains { $0.hasPrefix("entries_digest ") })
        #expect(mismatches.last?.hasPrefix("the draw cannot be recomputed: ") == true)
    }

    @Test func catchesADuplicateEntryAndAnEntryWithoutTickets() {
        #expect(Self.verify { $0.entries[1] = DrawEntry(userID: 10, tickets: 5) }.first?.contains("user 10 is listed twice") == true)
        #expect(Self.verify { $0.entries[1] = DrawEntry(userID: 20, tickets: 0) }.first?.contains("has 0 tickets") == true)
    }

    @Test func catchesAWrongDigest() {
        let mismatches = Self.verify { $0.entriesDigest = String(repeating: "0", count: 64) }
        #expect(
            mismatches == [
                "entries_digest 0000000000000000000000000000000000000000000000000000000000000000 does not match the entries (7b7b11795da83d24193957c2d5c8744dafcc90d3e58cca29bc56ab061ba3c27e)"
            ])
    }

    @Test func catchesAnotherProtocol() {
        #expect(Self.verify { $0.protocolName = "fastest-shop/draw/v2" }.count == 1)
    }
}
