import Testing
import TextEncodings

@testable import ShopDomain

/// Fixed vectors of draw protocol v1, produced by the independent reference implementation
/// `scripts/draw_reference.py`. Each comment holds the command (run from the repository root) that
/// prints the pinned values. A changed output is a changed protocol: published draws would no
/// longer verify, so these must fail.
@Suite struct DrawProtocolVectorTests {
    static let countingSeed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

    // printf '1:1\n2:3\n10:2\n' | sha256sum; printf '' | sha256sum
    @Test func digestOfKnownEntries() {
        let entries = [DrawEntry(userID: 1, tickets: 1), DrawEntry(userID: 2, tickets: 3), DrawEntry(userID: 10, tickets: 2)]
        #expect(DrawProtocolV1.entriesDigest(entries) == "88d4557530709683485e82f0fa3cd411d75b60272455c3891e8a67866030d962")
        #expect(DrawProtocolV1.entriesDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // echo '{"drop_id":42,"seed":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","beacon":"drand quicknet round 4211337 — é","stock":3,"waitlist_depth":4,"entries":[[3,1],[7,1],[11,1],[12,1],[19,1],[23,1],[31,1],[40,1],[41,1],[57,1]]}' | python3 scripts/draw_reference.py -
    @Test func drawWithWaitlist() throws {
        try expectDraw(
            dropID: 42, seed: Self.countingSeed, beacon: "drand quicknet round 4211337 — é",
            entries: [3, 7, 11, 12, 19, 23, 31, 40, 41, 57].map { ($0, 1) }, stock: 3, waitlistDepth: 4,
            digest: "cde01ca6490645c50bd8b2ce31301d9085eedd52e010b3762c2e44734130d711",
            winners: [40, 57, 12], waitlist: [3, 41, 23, 11])
    }

    // echo '{"drop_id":7,"seed":"5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed","beacon":"","stock":2,"waitlist_depth":2,"entries":[[10,1],[20,5],[30,2],[40,10],[50,1],[60,3]]}' | python3 scripts/draw_reference.py -
    @Test func raffleWithUnevenTickets() throws {
        try expectDraw(
            dropID: 7, seed: "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed", beacon: "",
            entries: [(10, 1), (20, 5), (30, 2), (40, 10), (50, 1), (60, 3)], stock: 2, waitlistDepth: 2,
            digest: "7b7b11795da83d24193957c2d5c8744dafcc90d3e58cca29bc56ab061ba3c27e",
            winners: [40, 60], waitlist: [30, 10])
    }

    // echo '{"drop_id":9,"seed":"c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00","beacon":"","stock":2,"waitlist_depth":10,"entries":[[2,3],[4,1],[8,2],[16,1],[32,4]]}' | python3 scripts/draw_reference.py -
    @Test func everyoneRankedWhenStockAndWaitlistCoverTheEntries() throws {
        try expectDraw(
            dropID: 9, seed: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", beacon: "",
            entries: [(2, 3), (4, 1), (8, 2), (16, 1), (32, 4)], stock: 2, waitlistDepth: 10,
            digest: "60d0b35aa64389946606abba17e8563b51e8d9a9e2d97d9a09c03b7b72158630",
            winners: [16, 32], waitlist: [8, 2, 4])
    }

    // echo '{"drop_id":1,"seed":"1111111111111111111111111111111111111111111111111111111111111111","beacon":"","stock":1,"waitlist_depth":0,"entries":[[99,3]]}' | python3 scripts/draw_reference.py -
    @Test func singleEntry() throws {
        try expectDraw(
            dropID: 1, seed: String(repeating: "1", count: 64), beacon: "",
            entries: [(99, 3)], stock: 1, waitlistDepth: 0,
            digest: "6a023bb9f09c782ba48a1ae3588eb074312340024d30244b6cecb85514a6f557",
            winners: [99], waitlist: [])
    }

    // A billion slots: an implementation that allocates one value per slot runs out of memory here.
    // echo '{"drop_id":5,"seed":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","beacon":"","stock":1,"waitlist_depth":1,"entries":[[1,400000000],[2,1],[3,600000000]]}' | python3 scripts/draw_reference.py -
    @Test func raffleWithABillionSlots() throws {
        try expectDraw(
            dropID: 5, seed: Self.countingSeed, beacon: "",
            entries: [(1, 400_000_000), (2, 1), (3, 600_000_000)], stock: 1, waitlistDepth: 1,
            digest: "d4c97e7cdc4a5ea1924dd8e2f8c8cbe3da6225c9de7d20fc9a68806de96d7ec7",
            winners: [3], waitlist: [1])
    }

    // 50,000 entries: the digest spans many of EntriesDigester's batches, the slots many entries.
    // python3 -c 'import json; print(json.dumps({"drop_id":77,"seed":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","beacon":"large","stock":5,"waitlist_depth":20,"entries":[[7*k+3,k%4+1] for k in range(50000)]}))' | python3 scripts/draw_reference.py -
    @Test func largeRaffle() throws {
        try expectDraw(
            dropID: 77, seed: Self.countingSeed, beacon: "large",
            entries: (0..<50_000).map { (7 * $0 + 3, $0 % 4 + 1) }, stock: 5, waitlistDepth: 20,
            digest: "cd1672b3c4970f0fa36b353427a4e4e09451aa79712f51f49276aa8b6b4f72e7",
            winners: [233810, 218592, 260221, 18084, 38489],
            waitlist: [
                107726, 221896, 76338, 223639, 261740, 276937, 256840, 348344, 217850, 269468, 92095, 164090,
                202086, 191348, 173456, 144728, 96533, 293205, 6772, 319112,
            ])
    }

    private func expectDraw(
        dropID: Int, seed: String, beacon: String, entries: [(Int, Int)], stock: Int, waitlistDepth: Int,
        digest: String, winners: [Int], waitlist: [Int]
    ) throws {
        let input = DrawInput(
            dropID: dropID, seed: try #require([UInt8](lowercaseHex: seed)), beacon: beacon,
            entries: entries.map { DrawEntry(userID: $0.0, tickets: $0.1) }, stock: stock, waitlistDepth: waitlistDepth)
        let result = try DrawProtocolV1.draw(input)
        #expect(result == DrawResult(entriesDigest: digest, winners: winners, waitlist: waitlist))
    }
}
