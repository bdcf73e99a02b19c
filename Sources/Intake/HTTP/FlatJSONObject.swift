import Foundation

/// A JSON object whose values are all scalars, in the order written, read straight from its
/// bytes: the fast path in front of `JSONDecoder` for what every customer sends at once (token
/// headers and claims, entry bodies). Nil for anything else, which goes to `JSONDecoder`:
/// nesting, escapes in strings, invalid UTF-8, duplicate keys, more than a handful of keys, or
/// bytes after the object.
struct FlatJSONObject {
    enum Value {
        case string(String)
        /// The number's text, valid JSON.
        case number(String)
        case bool(Bool)
        case null

        /// A number written as a plain decimal integer that fits `I`: no fraction, exponent or
        /// `-0`. Nil for anything else, which callers leave to `JSONDecoder`.
        func plainInteger<I: FixedWidthInteger>() -> I? {
            guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }),
                text != "-0"
            else { return nil }
            return I(text)
        }
    }

    private(set) var fields: [(key: String, value: Value)] = []

    /// Claims and headers have a few fields; a long object is left to `JSONDecoder` rather
    /// than searched key by key.
    static let maxFields = 16

    init?(_ data: Data) {
        guard let object = data.withUnsafeBytes({ Self(bytes: $0) }) else { return nil }
        self = object
    }

    init?(bytes: UnsafeRawBufferPointer) {
        guard let fields = Self.parse(bytes.bindMemory(to: UInt8.self)) else { return nil }
        self.fields = fields
    }

    func value(for key: String) -> Value? {
        fields.first { $0.key == key }?.value
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, value: Value)]? {
        var reader = Reader(bytes: bytes)
        var fields: [(key: String, value: Value)] = []
        reader.skipWhitespace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        reader.skipWhitespace()
        if !reader.take(UInt8(ascii: "}")) {
            while true {
                guard fields.count < maxFields, let key = reader.string(), !fields.contains(where: { $0.key == key }) else { return nil }
                reader.skipWhitespace()
                guard reader.take(UInt8(ascii: ":")) else { return nil }
                reader.skipWhitespace()
                guard let value = reader.scalar() else { return nil }
                fields.append((key, value))
                reader.skipWhitespace()
                if reader.take(UInt8(ascii: ",")) {
                    reader.skipWhitespace()
                    continue
                }
                guard reader.take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        reader.skipWhitespace()
        return reader.atEnd ? fields : nil
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// A string without escapes or control characters, in valid UTF-8.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] >= 0x20, bytes[index] != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return String(validating: bytes[start..<index], as: UTF8.self)
        }

        mutating func scalar() -> Value? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number().map(Value.number)
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let matches = word.withUTF8Buffer { bytes[index..<index + count].elementsEqual($0) }
            if matches { index += count }
            return matches
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() -> String? {
            let start = index
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                // No leading zeros.
            } else {
                guard digits() else { return nil }
            }
            if take(UInt8(ascii: ".")) {
                guard digits() else { return nil }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() else { return nil }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        /// One or more decimal digits.
        private mutating func digits() -> Bool {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index > start
        }
    }
}
