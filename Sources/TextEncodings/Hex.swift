extension Sequence<UInt8> {
    /// Lowercase hex: how every hex string of the draw protocol, of identifiers and of PostgreSQL's
    /// bytea is spelt.
    public var lowercaseHex: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            digits.append(hexDigit(byte >> 4))
            digits.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: digits, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Parses lowercase hex; `nil` for an odd length or any other character, uppercase included,
    /// so one value has exactly one spelling.
    public init?(lowercaseHex text: String) {
        var text = text
        guard let bytes = text.withUTF8({ [UInt8](lowercaseHexDigits: $0) }) else { return nil }
        self = bytes
    }

    /// Parses lowercase hex digits given as ASCII bytes (a column value as the server sent it).
    public init?(lowercaseHexDigits digits: UnsafeBufferPointer<UInt8>) {
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }
}

private func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    default: nil
    }
}
