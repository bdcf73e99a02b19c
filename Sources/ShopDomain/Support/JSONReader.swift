/// A forward-only reader for the handful of JSON shapes the audit bundle uses: objects, arrays,
/// strings and integers. Reading a million entries through a general JSON tree would allocate
/// millions of boxed values; this reads them straight into Swift arrays.
struct JSONReader {
    /// A syntax or type error at a byte offset.
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let expected: String
        var description: String { "expected \(expected) at byte \(offset)" }
    }

    /// Borrowed for the reader's life: an array's storage or a mapped file, never copied.
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads an object, calling `member` with each key; `member` must read the value.
    mutating func readObject(_ member: (String, inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "{"), "an object")
        if consumeIfNext(UInt8(ascii: "}")) { return }
        repeat {
            let key = try readString()
            try expect(UInt8(ascii: ":"), "':'")
            try member(key, &self)
        } while try consumeSeparator(closing: UInt8(ascii: "}"))
    }

    /// Reads an array, calling `element` with the index of each element; `element` must read it.
    mutating func readArray(_ element: (Int, inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["), "an array")
        if consumeIfNext(UInt8(ascii: "]")) { return }
        var index = 0
        repeat {
            try element(index, &self)
            index += 1
        } while try consumeSeparator(closing: UInt8(ascii: "]"))
    }

    mutating func readIntArray() throws -> [Int] {
        var values: [Int] = []
        try readArray { _, reader in values.append(try reader.readInt()) }
        return values
    }

    /// An integer in JSON number syntax that fits in `Int`; fractions and exponents are refused.
    mutating func readInt() throws -> Int {
        skipWhitespace()
        let start = offset
        let negative = bytes.at(offset) == UInt8(ascii: "-")
        if negative { offset += 1 }
        let digitsStart = offset
        var magnitude: UInt64 = 0
        var fits = true
        while let byte = bytes.at(offset), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            fits = fits && !overflow1 && !overflow2
            magnitude = sum
            offset += 1
        }
        let digitCount = offset - digitsStart
        guard digitCount > 0, digitCount == 1 || bytes[digitsStart] != UInt8(ascii: "0") else {
            throw Failure(offset: start, expected: "an integer")
        }
        if let next = bytes.at(offset), next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            throw Failure(offset: start, expected: "an integer without fraction or exponent")
        }
        let limit = negative ? UInt64(Int.max) + 1 : UInt64(Int.max)
        guard fits, magnitude <= limit else { throw Failure(offset: start, expected: "an integer that fits in 64 bits") }
        return negative ? Int(truncatingIfNeeded: 0 &- magnitude) : Int(magnitude)
    }

    /// A string with every JSON escape resolved; invalid UTF-8 is refused.
    mutating func readString() throws -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = offset
        // Filled only once an escape shows up; until then the string is a slice of the input.
        var unescaped: [UInt8] = []
        var hasEscapes = false
        while true {
            guard let byte = bytes.at(offset) else { throw Failure(offset: offset, expected: "a closing '\"'") }
            switch byte {
            case UInt8(ascii: "\""):
                let string =
                    hasEscapes
                    ? String(validating: unescaped, as: UTF8.self)
                    : String(validating: bytes[start..<offset], as: UTF8.self)
                guard let string else {
                    throw Failure(offset: start, expected: "valid UTF-8")
                }
                offset += 1
                return string
            case UInt8(ascii: "\\"):
                if !hasEscapes {
                    unescaped = Array(bytes[start..<offset])
                    hasEscapes = true
                }
                offset += 1
                try readEscape(into: &unescaped)
            case 0..<0x20:
                throw Failure(offset: offset, expected: "an escaped control character")
            default:
                if hasEscapes { unescaped.append(byte) }
                offset += 1
            }
        }
    }

    /// After the value: nothing but whitespace may follow.
    mutating func expectEnd() throws {
        skipWhitespace()
        guard offset == bytes.count else { throw Failure(offset: offset, expected: "the end of the document") }
    }

    private mutating func readEscape(into text: inout [UInt8]) throws {
        guard let byte = bytes.at(offset) else { throw Failure(offset: offset, expected: "an escape") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard bytes.at(offset) == UInt8(ascii: "\\"), bytes.at(offset + 1) == UInt8(ascii: "u") else {
                    throw Failure(offset: offset, expected: "a low surrogate escape")
                }
                offset += 2
                let low = try readHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw Failure(offset: offset - 4, expected: "a low surrogate") }
                scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Failure(offset: offset - 4, expected: "a Unicode scalar") }
            text.append(contentsOf: unicode.utf8)
        default:
            throw Failure(offset: offset - 1, expected: "a valid escape")
        }
    }

    private mutating func readHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = bytes.at(offset), let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                throw Failure(offset: offset, expected: "four hex digits")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    /// `,` → true (another member follows); `closing` → false.
    private mutating func consumeSeparator(closing: UInt8) throws -> Bool {
        skipWhitespace()
        switch bytes.at(offset) {
        case UInt8(ascii: ","):
            offset += 1
            return true
        case closing:
            offset += 1
            return false
        default:
            throw Failure(offset: offset, expected: "',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    private mutating func consumeIfNext(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard bytes.at(offset) == byte else { return false }
        offset += 1
        return true
    }

    private mutating func expect(_ byte: UInt8, _ expected: String) throws {
        guard consumeIfNext(byte) else { throw Failure(offset: offset, expected: expected) }
    }

    private mutating func skipWhitespace() {
        while let byte = bytes.at(offset), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            offset += 1
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    fileprivate func at(_ index: Int) -> UInt8? {
        index < count ? self[index] : nil
    }
}
