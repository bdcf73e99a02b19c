import Testing
import TextEncodings

@testable import ShopDomain

@Suite struct DrawProtocolTests {
    static let seed = [UInt8](0..<32)

    static func input(_ entries: [(Int, Int)], stock: Int = 1, waitlistDepth: Int = 0, seed: [UInt8] = seed) -> DrawInput {
        DrawInput(
            dropID: 1, seed: seed, beacon: "",
            entries: entries.map { DrawEntry(userID: $0.0, tickets: $0.1) }, stock: stock, waitlistDepth: waitlistDepth)
    }

    // printf '1:1\n' | sha256sum; printf '1:1\n2:3\n10:2\n' | sha256sum; printf -- '-5:1\n' | sha256sum
    @Test func digesterCanBeReadMidStream() {
        var digester = EntriesDigester()
        digester.append(userID: 1, tickets: 1)
        #expect(digester.finalize() == "a18736e88910bc168ddfd39a413f4b9323802c5a4303d33f74dd50dd5cfca72a")
        digester.append(userID: 2, tickets: 3)
        digester.append(userID: 10, tickets: 2)
        #expect(digester.finalize() == "88d4557530709683485e82f0fa3cd411d75b60272455c3891e8a67866030d962")
        // Negative ids are spelled as String and Python's str spell them.
        #expect(
            DrawProtocolV1.entriesDigest([DrawEntry(userID: -5, tickets: 1)]) == "af677e90685417c95b7b4f05ff7518837e77fe50c17996ef504a6bfcbfcab85b")
    }

    /// The raffle vector of DrawProtocolVectorTests, through the overload a streaming caller uses.
    @Test func drawWithAStreamedDigest() throws {
        let seed = try #require([UInt8](lowercaseHex: String(repeating: "5eed", count: 16)))
        var input = Self.input([(10, 1), (20, 5), (30, 2), (40, 10), (50, 1), (60, 3)], stock: 2, waitlistDepth: 2, seed: seed)
        input.dropID = 7
        var digester = EntriesDigester()
        for entry in input.entries { digester.append(userID: entry.userID, tickets: entry.tickets) }
        let result = try DrawProtocolV1.draw(input, entriesDigest: digester.finalize())
        #expect(result.entriesDigest == "7b7b11795da83d24193957c2d5c8744dafcc90d3e58cca29bc56ab061ba3c27e")
        #expect(result.winners == [40, 60] && result.waitlist == [30, 10])
    }

    @Test func stockBeyondTheEntriesMakesEveryoneAWinner() throws {
        for (stock, waitlistDepth) in [(10, 0), (Int.max, Int.max)] {
            let result = try DrawProtocolV1.draw(Self.input([(1, 1), (2, 3), (3, 1)], stock: stock, waitlistDepth: waitlistDepth))
            #expect(result.winners.sorted() == [1, 2, 3])
            #expect(result.waitlist.isEmpty)
        }
    }

    @Test(arguments: [[3, 1, 7, 1, 1, 12, 2], [1], [1, 1, 1], [40, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 30]])
    func everySlotBelongsToTheEntryHoldingIt(tickets: [Int]) throws {
        let slots = try TicketSlots(entries: tickets.enumerated().map { DrawEntry(userID: $0.offset, tickets: $0.element) })
        let owners = tickets.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element) }
        #expect(slots.total == owners.count)
        #expect((0..<slots.total).map(slots.entryIndex(ofSlot:)) == owners)
    }

    @Test func ticketTotalsNearTheLimitDrawWithoutOverflow() throws {
        let result = try DrawProtocolV1.draw(Self.input([(1, Int.max / 2), (2, Int.max / 2 + 1)], stock: 1, waitlistDepth: 1))
        #expect((result.winners + result.waitlist).sorted() == [1, 2])
    }

    @Test func noEntriesDrawsNobody() throws {
        let result = try DrawProtocolV1.draw(Self.input([], stock: 3, waitlistDepth: 3))
        #expect(result.winners.isEmpty && result.waitlist.isEmpty)
    }

    @Test(arguments: [
        (DrawProtocolTests.input([(2, 1), (1, 1)]), DrawInputError.Code.entriesNotAscending),
        (DrawProtocolTests.input([(1, 1), (1, 1)]), .entriesNotAscending),
        (DrawProtocolTests.input([(1, 1), (2, 0)]), .invalidTickets),
        (DrawProtocolTests.input([(1, Int.max), (2, 1)]), .tooManyTickets),
        (DrawProtocolTests.input([(1, 1)], seed: Array(DrawProtocolTests.seed.prefix(31))), .invalidSeed),
        (DrawProtocolTests.input([(1, 1)], stock: 0), .invalidStock),
        (DrawProtocolTests.input([(1, 1)], waitlistDepth: -1), .invalidWaitlistDepth),
    ])
    func refusesInvalidInput(input: DrawInput, code: DrawInputError.Code) {
        #expect { try DrawProtocolV1.draw(input) } throws: { ($0 as? DrawInputError)?.code == code }
    }

    @Test func refusesAMalformedStreamedDigest() {
        for digest in ["", "abc", String(repeating: "A", count: 64)] {
            #expect { try DrawProtocolV1.draw(Self.input([(1, 1)]), entriesDigest: digest) } throws: {
                ($0 as? DrawInputError)?.code == .invalidEntriesDigest
            }
        }
    }

    /// Raffle odds are proportional to tickets. 20,000 one-winner raffles (drop ids 1...20,000, so
    /// a different R each) among four entries holding 1, 2, 3 and 4 of 10 tickets: each entry's win
    /// count is Binomial(20,000, t/10). The band is 5 standard deviations, sqrt(n·p·(1−p)) (at most
    /// 346 wins): a correct draw leaves it with probability below 1e-6 per entry, and the inputs
    /// are fixed, so the outcome is the same on every run. Picking entries uniformly instead
    /// (p = 0.25) misses the band by thousands of wins.
    @Test func raffleOddsFollowTickets() throws {
        let tickets = [1, 2, 3, 4]
        let draws = 20_000
        var wins = [Int: Int]()
        for dropID in 1...draws {
            var input = Self.input(tickets.enumerated().map { ($0.offset + 1, $0.element) })
            input.dropID = dropID
            let winners = try DrawProtocolV1.draw(input).winners
            try #require(winners.count == 1)
            wins[winners[0], default: 0] += 1
        }
        for (index, ticketCount) in tickets.enumerated() {
            let p = Double(ticketCount) / 10
            let expected = Double(draws) * p
            let sigma = (Double(draws) * p * (1 - p)).squareRoot()
            let observed = Double(wins[index + 1, default: 0])
            #expect(abs(observed - expected) <= 5 * sigma, "user \(index + 1): \(observed) wins, expected \(expected) ± \(5 * sigma)")
        }
    }
}

/// Scripted words, to reach the rejection edges of `uniform(_:)` on purpose.
private struct ScriptedWords: DrawWordSource {
    let words: [UInt64]
    private(set) var consumed = 0

    init(_ words: [UInt64]) { self.words = words }

    /// Past the script: records the failure and returns 0, which every `n` accepts, so the test
    /// ends instead of trapping.
    mutating func nextWord() -> UInt64 {
        defer { consumed += 1 }
        guard consumed < words.count else {
            Issue.record("uniform asked for more than the \(words.count) scripted words")
            return 0
        }
        return words[consumed]
    }
}

@Suite struct UniformTests {
    @Test func oneConsumesAWordAndReturnsZero() {
        var words = ScriptedWords([.max, 7])
        #expect(words.uniform(1) == 0)
        #expect(words.consumed == 1)
    }

    @Test func powerOfTwoAcceptsEveryWord() {
        var words = ScriptedWords([.max])
        #expect(words.uniform(1 << 32) == 0xFFFF_FFFF)
        #expect(words.consumed == 1)
    }

    /// n = 2^63 + 1: 2^64 mod n = 2^63 − 1, so every word from 2^63 + 1 up is rejected — almost half.
    @Test func justAboveHalfTheRangeRejectsTheUpperHalf() {
        var words = ScriptedWords([.max, (1 << 63) + 1, 1 << 63])
        #expect(words.uniform((1 << 63) + 1) == 1 << 63)
        #expect(words.consumed == 3)
    }

    /// 2^64 mod 3 = 1 and 2^64 mod (2^64 − 1) = 1: only the very last word is rejected.
    @Test(arguments: [UInt64(3), .max])
    func rejectsOnlyTheTopWordWhenTheExcessIsOne(n: UInt64) {
        var words = ScriptedWords([.max, .max - 1])
        #expect(words.uniform(n) == (UInt64.max - 1) % n)
        #expect(words.consumed == 2)
    }
}
