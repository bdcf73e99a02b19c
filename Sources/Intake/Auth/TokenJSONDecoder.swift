import Foundation
import JWTKit

/// The JSON decoder of token verification: flat objects straight from their bytes, everything
/// else through Foundation's `JSONDecoder`.
///
/// Verifying a token decodes two small JSON objects: its header (`alg`, `typ`) and its claims
/// (`sub`, `role`, `exp`, `iat`). Foundation's `JSONDecoder` spent more of the CPU of the
/// server's request threads on those two than the signature check when every entry brought a
/// token not seen before (perf, `bench intake`; docs/benchmarks.md, "Entries, 2026-12-02"). This
/// decoder reads an object whose values are strings without escapes, numbers, booleans or null,
/// and decodes the dates of claims as seconds since 1970, as jwt-kit's default decoder does. Anything it does not read
/// (nesting, escapes, a type it leaves alone) and every error go to that default decoder, so
/// the answer is always the one `JSONDecoder` gives; tests compare the two.
struct TokenJSONDecoder: JWTJSONDecoder {
    private let fallback: JSONDecoder

    init() {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        fallback = decoder
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let value = fastDecode(type, from: data) { return value }
        return try fallback.decode(type, from: data)
    }

    /// The value read without `JSONDecoder`; nil when this decoder leaves the input to it.
    func fastDecode<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        // JSONDecoder reads these four its own way even at the top level.
        guard !ScalarDecoder.isDecodedSpecially(type), let object = FlatJSONObject(data) else { return nil }
        let bailOut = BailOut()
        let value = try? T(from: FlatObjectDecoder(object: object, bailOut: bailOut))
        // A type may catch an error and try something else (`try? decode(Int.self, …) ?? 0`):
        // once the fast path has given up anywhere, its answer is not JSONDecoder's.
        return bailOut.happened ? nil : value
    }
}

/// Thrown inside the fast path for whatever it leaves to `JSONDecoder`; never escapes.
private struct NotFlat: Error {}

/// Remembers that the fast path gave up, even if the type being decoded caught the error. One
/// per decoding, used on one thread.
private final class BailOut {
    private(set) var happened = false

    func callAsFunction() -> NotFlat {
        happened = true
        return NotFlat()
    }
}

/// Decodes a type from a ``FlatJSONObject``, for the fields of a keyed container.
private struct FlatObjectDecoder: Decoder {
    let object: FlatJSONObject
    let bailOut: BailOut
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(FlatObjectContainer(object: object, bailOut: bailOut))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw bailOut() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw bailOut() }
}

private struct FlatObjectContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: FlatJSONObject
    let bailOut: BailOut
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { object.fields.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { object.value(for: key.stringValue) != nil }

    private func value(_ key: Key) throws -> FlatJSONObject.Value {
        guard let value = object.value(for: key.stringValue) else { throw bailOut() }
        return value
    }

    private func scalar(_ key: Key) throws -> ScalarDecoder { ScalarDecoder(value: try value(key), bailOut: bailOut) }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try value(key) { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try scalar(key).decode(type) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key).double() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw bailOut() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key).integer() }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(key).integer() }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(key).integer() }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key).integer() }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key).integer() }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(key).integer() }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(key).integer() }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(key).integer() }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(key).integer() }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(key).integer() }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw bailOut()
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw bailOut() }
    func superDecoder() throws -> any Decoder { throw bailOut() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw bailOut() }
}

/// Decodes a type from one scalar: the claim wrappers (`SubjectClaim`, `ExpirationClaim`, …)
/// and raw-value enums ask for a single value container.
private struct ScalarDecoder: Decoder, SingleValueDecodingContainer {
    let value: FlatJSONObject.Value
    let bailOut: BailOut
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Types `JSONDecoder` decodes its own way: dates by its strategy (here seconds since 1970,
    /// which the fast path reads too), and `Data`, `URL` and `Decimal`, which are left to it.
    static func isDecodedSpecially(_ type: Any.Type) -> Bool {
        type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self { return Date(timeIntervalSince1970: try double()) as! T }
        if Self.isDecodedSpecially(type) { throw bailOut() }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw bailOut() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw bailOut() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func bool() throws -> Bool {
        guard case .bool(let bool) = value else { throw bailOut() }
        return bool
    }

    func string() throws -> String {
        guard case .string(let string) = value else { throw bailOut() }
        return string
    }

    func double() throws -> Double {
        guard case .number(let text) = value, let double = Double(text), double.isFinite else { throw bailOut() }
        // A number too small for a Double is left to `JSONDecoder` too, whatever it makes of it.
        if double == 0, text.contains(where: { ("1"..."9").contains($0) }) { throw bailOut() }
        return double
    }

    func integer<I: FixedWidthInteger>() throws -> I {
        guard let integer: I = value.plainInteger() else { throw bailOut() }
        return integer
    }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try bool() }
    func decode(_ type: String.Type) throws -> String { try string() }
    func decode(_ type: Double.Type) throws -> Double { try double() }
    func decode(_ type: Float.Type) throws -> Float { throw bailOut() }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
}
