import Testing

@testable import ShopDomain

/// The stored bundle's pieces (issue 20): the chunked JSON is the document, byte for byte, each
/// chunk valid UTF-8 on its own; flat entries give the digest and draw the value list gives.
@Suite struct AuditBundleChunkTests {
    static func bundle(entries count: Int, beacon: String = "drand ✓ round 42 — é") throws -> AuditBundle {
        let entries = (1...count).map { DrawEntry(userID: $0 * 3, tickets: 1 + ($0 &* 2_654_435_761) % 7) }
        let input = DrawInput(dropID: 5, seed: DrawProtocolV1.makeSeed(), beacon: beacon, entries: entries, stock: 20, waitlistDepth: 40)
        return AuditBundle(input: input, result: try DrawProtocolV1.draw(input))
    }

    @Test(arguments: [1, 7, 100, 4096, 1 << 20])
    func chunksConcatenateToTheDocumentAndEachIsValidUTF8(_ chunkBytes: Int) throws {
        let bundle = try Self.bundle(entries: 5_000)
        var chunks: [[UInt8]] = []
        bundle.writeJSON(chunkBytes: chunkBytes) { chunks.append($0) }
        #expect(chunks.flatMap { $0 } == bundle.jsonBytes())
        #expect(chunks.allSatisfy { String(validating: $0, as: UTF8.self) != nil })
        if chunkBytes < 1000 { #expect(chunks.count > 100) }
        #expect(chunks.dropLast().allSatisfy { $0.count >= chunkBytes }, "a chunk is cut only once full")
    }

    @Test func flatEntriesGiveTheSameDigestAndDrawAsTheValueList() throws {
        let entries = (1...3_000).map { DrawEntry(userID: $0 * 5 + 1, tickets: 1 + $0 % 9) }
        let flat = CanonicalEntries(entries)
        #expect(flat.entries == entries)
        #expect(flat.totalTickets == entries.reduce(0) { $0 + $1.tickets })
        #expect(flat.digest == DrawProtocolV1.entriesDigest(entries))
        let seed = DrawProtocolV1.makeSeed()
        let viaValues = try DrawProtocolV1.draw(DrawInput(dropID: 3, seed: seed, beacon: "", entries: entries, stock: 7, waitlistDepth: 9))
        let viaFlat = try DrawProtocolV1.draw(DrawInput(dropID: 3, seed: seed, beacon: "", entries: flat, stock: 7, waitlistDepth: 9))
        #expect(viaValues == viaFlat)
    }

    @Test func ticketsBeyondSixtyFourBitsAreRefused() {
        let flat = CanonicalEntries([DrawEntry(userID: 1, tickets: .max), DrawEntry(userID: 2, tickets: 1)])
        #expect(flat.ticketsOverflowed)
        #expect(flat.tickets(at: 1) == 1, "each entry's tickets survive the wrapped sum")
        #expect(throws: DrawInputError.self) {
            try DrawProtocolV1.draw(DrawInput(dropID: 1, seed: DrawProtocolV1.makeSeed(), beacon: "", entries: flat, stock: 1, waitlistDepth: 0))
        }
    }
}
