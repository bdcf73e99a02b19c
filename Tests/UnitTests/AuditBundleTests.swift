import Foundation
import Testing

@testable import ShopDomain

@Suite struct AuditBundleTests {
    /// The single-entry vector, with a beacon that needs every kind of escaping.
    static let bundle = AuditBundle(
        protocolName: "fastest-shop/draw/v1", dropID: 1,
        commitment: "02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc",
        seed: [UInt8](repeating: 0x11, count: 32), beacon: "say \"hi\" \\ to\nthe\u{01}é",
        entriesDigest: "6a023bb9f09c782ba48a1ae3588eb074312340024d30244b6cecb85514a6f557", stock: 1, waitlistDepth: 0,
        entries: [DrawEntry(userID: 99, tickets: 3)], winners: [99], waitlist: [])

    /// `json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)` of the same bundle in Python;
    /// `python3 scripts/draw_reference.py --check` accepts it.
    static let compactJSON = #"""
        {"protocol":"fastest-shop/draw/v1","drop_id":1,"commitment":"02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc","seed":"1111111111111111111111111111111111111111111111111111111111111111","beacon":"say \"hi\" \\ to\nthe\u0001é","entries_digest":"6a023bb9f09c782ba48a1ae3588eb074312340024d30244b6cecb85514a6f557","stock":1,"waitlist_depth":0,"entries":[[99,3]],"winners":[99],"waitlist":[]}
        """#

    static func decode(_ json: String) throws(AuditBundleDecodingError) -> AuditBundle {
        try AuditBundle(jsonBytes: Array(json.utf8))
    }

    @Test func encodesTheSpecKeysInOrder() {
        #expect(String(decoding: Self.bundle.jsonBytes(), as: UTF8.self) == Self.compactJSON)
    }

    @Test func roundTripsADraw() throws {
        let entries = (1...2_000).map { DrawEntry(userID: $0 * 2, tickets: $0 % 3 + 1) }
        let input = DrawInput(
            dropID: 8, seed: DrawProtocolV1.makeSeed(), beacon: "tab\there ✓ 🎲", entries: entries, stock: 10, waitlistDepth: 30)
        let bundle = AuditBundle(input: input, result: try DrawProtocolV1.draw(input))
        #expect(try AuditBundle(jsonBytes: bundle.jsonBytes()) == bundle)
    }

    /// Python's default `json.dumps`: spaces after separators and non-ASCII as `\u` escapes.
    @Test func decodesWhatPythonWritesByDefault() throws {
        let json = #"""
            {"protocol": "fastest-shop/draw/v1", "drop_id": 1, "commitment": "02d449a31fbb267c8f352e9968a79e3e5fc95c1bbeaa502fd6454ebde5a4bedc", "seed": "1111111111111111111111111111111111111111111111111111111111111111", "beacon": "say \"hi\" \\ to\nthe\u0001\u00e9", "entries_digest": "6a023bb9f09c782ba48a1ae3588eb074312340024d30244b6cecb85514a6f557", "stock": 1, "waitlist_depth": 0, "entries": [[99, 3]], "winners": [99], "waitlist": []}
            """#
        #expect(try Self.decode(json) == Self.bundle)
    }

    @Test func decodesSurrogatePairs() throws {
        let json = Self.compactJSON.replacingOccurrences(of: #""beacon":"say \"hi\" \\ to\nthe\u0001é""#, with: #""beacon":"\ud83c\udfb2""#)
        #expect(try Self.decode(json).beacon == "🎲")
    }

    @Test(arguments: [
        (#""seed":"1111111111111111111111111111111111111111111111111111111111111111","#, "", AuditBundleDecodingError.Code.missingField, "seed"),
        (#""stock":1"#, #""stock":"1""#, .invalidField, "stock"),
        (#""stock":1"#, #""stock":1.0"#, .invalidField, "stock"),
        (#""drop_id":1"#, #""drop_id":99999999999999999999"#, .invalidField, "drop_id"),
        (#""drop_id":1"#, #""drop_id":01"#, .invalidField, "drop_id"),
        (#"[[99,3]]"#, #"[[99,3,1]]"#, .invalidField, "entries"),
        (#"[[99,3]]"#, #"[[99]]"#, .invalidField, "entries"),
        (#""winners":[99]"#, #""winners":[99,"x"]"#, .invalidField, "winners"),
        (#""seed":"1111"#, #""seed":"ABCD"#, .invalidField, "seed"),
        (#""seed":"1111"#, #""seed":"111"#, .invalidField, "seed"),
        (#""beacon":"say"#, #""beacon":"\q say"#, .invalidField, "beacon"),
        (#""beacon":"say"#, #""beacon":"\ud83c say"#, .invalidField, "beacon"),
        (#""stock":1"#, #""stock":1,"stock":2"#, .duplicateField, "stock"),
        (#""stock":1"#, #""stock":1,"drawn_at":0"#, .unknownField, "drawn_at"),
    ])
    func decodingErrorNamesTheField(replacing original: String, with replacement: String, code: AuditBundleDecodingError.Code, field: String) {
        #expect(Self.compactJSON.contains(original), "the test must change the document")
        let json = Self.compactJSON.replacingOccurrences(of: original, with: replacement)
        #expect { try Self.decode(json) } throws: { error in
            guard let error = error as? AuditBundleDecodingError else { return false }
            return error.code == code && error.field == field && error.description.contains("\"\(field)\"")
        }
    }

    @Test(arguments: ["", "[]", "{", #"{"protocol":"fastest-shop/draw/v1""#, AuditBundleTests.compactJSON + "x", AuditBundleTests.compactJSON + "{}"])
    func refusesMalformedDocuments(json: String) {
        #expect { try Self.decode(json) } throws: { error in
            guard let error = error as? AuditBundleDecodingError else { return false }
            return error.code == .malformedJSON && error.field == nil && error.description.hasPrefix("malformed JSON: expected ")
        }
    }

    @Test func refusesInvalidUTF8() throws {
        var bytes = Array(Self.compactJSON.utf8)
        let beacon = Array("say".utf8)
        let start = try #require(bytes.firstRange(of: beacon)).lowerBound
        bytes[start] = 0xFF
        #expect { try AuditBundle(jsonBytes: bytes) } throws: { ($0 as? AuditBundleDecodingError)?.field == "beacon" }
    }
}
