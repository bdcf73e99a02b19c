extension Sequence<UInt8> {
    /// Lowercase hex, as every hex string of the protocol is.
    public var lowercaseHex: String {
        var text = ""
        for byte in self {
            text.append(hexDigit(byte >> 4))
            text.append(hexDigit(byte & 0x0F))
        }
        return text
    }
}

extension [UInt8] {
    /// Parses lowercase hex; `nil` for an odd length or any other character, uppercase included,
    /// so one value has exactly one spelling.
    public init?(lowercaseHex text: String) {
        let digits = Array(text.utf8)
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

private func hexDigit(_ value: UInt8) -> Character {
    Character(Unicode.Scalar(value < 10 ? 48 + value : 87 + value))
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    default: nil
    }
}
