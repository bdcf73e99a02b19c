/// Redis Cluster's hash slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
///
/// A hash tag is what lies between the first `{` and the first `}` after it, when that is not
/// empty: `{drop:7}:buyers` and `{drop:7}` share a slot, so a script touching both stays on one
/// shard. A key without a tag (or with an empty `{}`) hashes whole.
public enum RedisClusterSlot {
    public static let count = 16384

    public static func of(_ key: String) -> Int { of(Array(key.utf8)[...]) }

    public static func of(_ key: ArraySlice<UInt8>) -> Int {
        Int(crc16(hashedPart(of: key)) & 0x3FFF)
    }

    /// The bytes that decide the slot: the tag if there is one, else the whole key.
    static func hashedPart(of key: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close > afterOpen else { return key }
        return key[afterOpen..<close]
    }

    /// CRC-16/XMODEM (polynomial 0x1021, initial value 0), the variant the cluster specification names.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
