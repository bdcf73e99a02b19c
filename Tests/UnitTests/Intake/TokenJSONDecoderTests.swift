import Foundation
import ShopDomain
import Testing

@testable import Intake

/// `TokenJSONDecoder` answers exactly what jwt-kit's default `JSONDecoder` answers; it only
/// gets there sooner for the flat objects of token headers and claims.
@Suite struct TokenJSONDecoderTests {
    struct Claims: Decodable, Equatable {
        let sub: String
        let role: Role
        let exp: Date
        let iat: Date
    }

    struct Header: Decodable, Equatable {
        let alg: String?
        let kid: String?
        let typ: String?
    }

    struct Scalars: Decodable, Equatable {
        let i: Int
        let u: UInt8
        let d: Double
        let b: Bool
        let s: String?
    }

    /// Compares doubles by their bits, so that -0.0 and 0.0 differ.
    struct Bits: Decodable, Equatable {
        let d: Double
        static func == (lhs: Self, rhs: Self) -> Bool { lhs.d.bitPattern == rhs.d.bitPattern }
    }

    /// A type that catches a failed decode and carries on with something else.
    struct Lenient: Decodable, Equatable {
        let n: Int
        enum CodingKeys: CodingKey { case n }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            n = (try? container.decode(Int.self, forKey: .n)) ?? 0
        }
    }

    static let reference: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    /// The same value, or an error from both; true when the fast path read it.
    @discardableResult
    func expectSameAnswer<T: Decodable & Equatable>(
        _ type: T.Type, _ json: some Sequence<UInt8>, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let data = Data(json)
        let expected = try? Self.reference.decode(type, from: data)
        let ours = try? TokenJSONDecoder().decode(type, from: data)
        #expect(ours == expected, "\(String(decoding: data, as: UTF8.self))", sourceLocation: sourceLocation)
        // Whatever the fast path reads, it reads as JSONDecoder does.
        guard let fast = TokenJSONDecoder().fastDecode(type, from: data) else { return false }
        #expect(fast == expected, "\(String(decoding: data, as: UTF8.self))", sourceLocation: sourceLocation)
        return true
    }

    @Test func readsTheTokensWeIssueWithoutJSONDecoder() async throws {
        let tokens = await AccessTokens(secret: "a-secret-of-at-least-thirty-two-bytes", lifetimeSeconds: 600)
        // A time with a fraction of a second, which the claims carry as a decimal.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) + 0.123_456)
        let token = try await tokens.issue(for: AuthenticatedUser(id: 42, role: .customer), now: now)
        let parts = token.split(separator: ".").map(String.init)
        let header = try #require(Data(base64URL: parts[0]))
        let claims = try #require(Data(base64URL: parts[1]))
        let fastClaims = try #require(TokenJSONDecoder().fastDecode(Claims.self, from: claims))
        #expect(fastClaims == (try Self.reference.decode(Claims.self, from: claims)))
        #expect(fastClaims.sub == "42" && fastClaims.role == .customer)
        #expect(fastClaims.iat == now)
        let fastHeader = try #require(TokenJSONDecoder().fastDecode(Header.self, from: header))
        #expect(fastHeader == Header(alg: "HS256", kid: nil, typ: "JWT"))
        // And the whole verification goes through it.
        #expect(try await tokens.verify(token) == AuthenticatedUser(id: 42, role: .customer))
    }

    @Test func answersAsJSONDecoderDoesAtTheEdges() {
        let claims = [
            #"{"sub":"1","role":"customer","exp":1764648000,"iat":1764647000}"#,
            #" { "sub" : "1" , "role" : "operator" , "exp" : 1.7646e9 , "iat" : 17646E5 } "#,
            #"{"sub":"1","role":"customer","exp":1764648000,"iat":1764647000,"extra":null}"#,
            #"{"sub":"1","role":"customer","exp":1764648000,"iat":1764647000,"extra":{"a":1}}"#,
            #"{"sub":"1","role":"admin","exp":1764648000,"iat":1764647000}"#,
            #"{"sub":1,"role":"customer","exp":1764648000,"iat":1764647000}"#,
            #"{"sub":"1","role":"customer","exp":"1764648000","iat":1764647000}"#,
            #"{"sub":"\u0031","role":"customer","exp":1764648000,"iat":1764647000}"#,
            #"{"sub":"1","role":"customer","exp":1764648000,"iat":1764647000,"sub":"2"}"#,
            #"{"sub":"1","role":"customer","exp":1764648000}"#,
            #"{"sub":"1","role":"customer","exp":1e400,"iat":1764647000}"#,
            #"{"sub":"1","role":"customer","exp":1e-400,"iat":1764647000}"#,
            #"{"sub":"1","role":"customer","exp":01,"iat":1764647000}"#,
            #"{"sub":"1","role":"customer","exp":-0.0,"iat":-1}"#,
            #"{"sub":"1","role":"customer","exp":1.,"iat":1}"#,
            #"{"sub":"1","role":"customer","exp":1,"iat":1} x"#,
            #"{"sub":"1","role":"customer","exp":1,"iat":1,}"#,
            #"{"sub":"ü","role":"customer","exp":1,"iat":1}"#,
            "{\"sub\":\"a\tb\",\"role\":\"customer\",\"exp\":1,\"iat\":1}",
            #"[{"sub":"1"}]"#, "", "{", "null", #""x""#,
        ]
        for json in claims { expectSameAnswer(Claims.self, json.utf8) }
        // Invalid UTF-8 in a string.
        expectSameAnswer(Claims.self, Array(#"{"sub":""#.utf8) + [0xC3, 0x28] + Array(#"","role":"customer","exp":1,"iat":1}"#.utf8))

        let headers = [
            #"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256","kid":"k1"}"#, #"{}"#, #"{"alg":null}"#,
            #"{"alg":true}"#, #"{"alg":"HS256","crit":["exp"]}"#, #"{"alg":"HS256","x5c":{}}"#,
        ]
        for json in headers { expectSameAnswer(Header.self, json.utf8) }

        let scalars = [
            #"{"i":-12,"u":255,"d":0.5,"b":true,"s":"x"}"#, #"{"i":1.0,"u":1,"d":1,"b":false}"#, #"{"i":1,"u":256,"d":1,"b":false}"#,
            #"{"i":1,"u":-1,"d":1,"b":false}"#, #"{"i":1,"u":-0,"d":1,"b":false}"#, #"{"i":1e2,"u":1,"d":1,"b":false}"#,
            #"{"i":99999999999999999999,"u":1,"d":1,"b":false}"#, #"{"i":1,"u":1,"d":1,"b":0}"#, #"{"i":1,"u":1,"d":1,"b":nul}"#,
            #"{"i":1,"u":1,"d":-,"b":true}"#, #"{"i":1,"u":1,"d":1e,"b":true}"#, #"{"i":1,"u":1,"d":2.5E+3,"b":true,"s":null}"#,
        ]
        for json in scalars { expectSameAnswer(Scalars.self, json.utf8) }

        let numbers = [
            "0", "-0", "-0.0", "0e5", "1.0", "4.9e-324", "2e-324", "1e-400", "1E400", "-1E400", "1.7976931348623157e308",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1e2",
        ]
        for number in numbers {
            expectSameAnswer(Bits.self, #"{"d":\#(number)}"#.utf8)
            expectSameAnswer(Lenient.self, #"{"n":\#(number)}"#.utf8)
        }
        expectSameAnswer(Lenient.self, #"{"n":"1"}"#.utf8)
        expectSameAnswer(Lenient.self, #"{"m":1}"#.utf8)
        // JSONDecoder reads a URL its own way, even at the top level.
        expectSameAnswer(URL.self, #"{"relative":"https://example.com"}"#.utf8)

        // Bytes in strings and keys: a NUL, DEL, an overlong encoding, a lone surrogate, and two
        // spellings of the same key (composed and decomposed).
        for bytes: [UInt8] in [[0x00], [0x7F], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], Array("é".utf8)] {
            expectSameAnswer(Header.self, Array(#"{"alg":""#.utf8) + bytes + Array(#""}"#.utf8))
        }
        expectSameAnswer(Header.self, Array("{\"\u{E9}\":\"1\",\"e\u{301}\":\"2\",\"alg\":\"x\"}".utf8))
        // A byte-order mark, and UTF-16.
        expectSameAnswer(Header.self, [0xEF, 0xBB, 0xBF] + Array(#"{"alg":"HS256"}"#.utf8))
        expectSameAnswer(Header.self, Array(#"{"alg":"HS256"}"#.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        // Up to 16 fields are read without JSONDecoder; more are left to it, with the same answer.
        for count in [15, 16, 17] {
            let extra = (0..<count - 1).map { #""x\#($0)":\#($0)"# }.joined(separator: ",")
            let json = #"{"alg":"HS256",\#(extra)}"#
            expectSameAnswer(Header.self, json.utf8)
            #expect((TokenJSONDecoder().fastDecode(Header.self, from: Data(json.utf8)) != nil) == (count <= 16))
        }
    }

    /// Random flat objects and random damage to them: the two decoders never disagree.
    @Test func neverDisagreesWithJSONDecoderOnRandomInput() {
        var random = SeededRandom(seed: 0x5EED)
        let keys = ["sub", "role", "exp", "iat", "alg", "typ", "kid", "i", "u", "d", "b", "s", "x", "n", "é"]
        let values = [
            #""1""#, #""customer""#, #""operator""#, "1764648000", "1.5", "-3", "0", "true", "false", "null", #""HS256""#,
            "1e3", "255", "256", #""a\"b""#, "[1]", "{}", #""é""#, "1.0", "-0", "0e5", "1e-400",
        ]
        let whitespace = ["", " ", "\n", "\t "]
        var readFast = 0
        for _ in 0..<3_000 {
            var json = "{"
            for index in 0..<Int.random(in: 0...6, using: &random) {
                if index > 0 { json += "," }
                json += whitespace.randomElement(using: &random)! + "\"\(keys.randomElement(using: &random)!)\""
                json += whitespace.randomElement(using: &random)! + ":" + values.randomElement(using: &random)!
            }
            json += whitespace.randomElement(using: &random)! + "}"
            var bytes = Array(json.utf8)
            if Bool.random(using: &random), !bytes.isEmpty {
                // Damage: a byte changed, dropped or duplicated.
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: at)
                default: bytes.insert(bytes[at], at: at)
                }
            }
            let reads = [
                expectSameAnswer(Claims.self, bytes), expectSameAnswer(Header.self, bytes), expectSameAnswer(Scalars.self, bytes),
                expectSameAnswer(Bits.self, bytes), expectSameAnswer(Lenient.self, bytes),
            ]
            readFast += reads.filter { $0 }.count
        }
        // The comparison means something only if the fast path read a good share of them.
        #expect(readFast > 500)
    }
}

/// SplitMix64: the same sequence on every run, so a failure can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Data {
    /// A token part's bytes: base64url, without padding.
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
