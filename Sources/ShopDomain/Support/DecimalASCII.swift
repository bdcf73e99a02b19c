extension [UInt8] {
    /// Appends `value` in decimal ASCII, as `String(value)` spells it, without building a String:
    /// the entries digest and the audit bundle write a million of these.
    mutating func appendDecimal(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        let start = count
        var remaining = value.magnitude
        repeat {
            append(UInt8(ascii: "0") + UInt8(remaining % 10))
            remaining /= 10
        } while remaining > 0
        self[start...].reverse()
    }
}
