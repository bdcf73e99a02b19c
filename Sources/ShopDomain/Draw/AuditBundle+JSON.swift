import TextEncodings

extension AuditBundle {
    /// Compact JSON with the audit bundle's keys in their documented order (docs/contract.md, "Draw
    /// protocol v1").
    public func jsonBytes() -> [UInt8] {
        var json: [UInt8] = []
        json.reserveCapacity(512 + canonicalEntries.count * 24 + (winners.count + waitlist.count) * 12)
        writeJSON(chunkBytes: .max) { json.append(contentsOf: $0) }
        return json
    }

    /// The bytes of ``jsonBytes()`` handed to `emit` in chunks of about `chunkBytes` (at least
    /// one value each), so a bundle of ten million entries is never one buffer. A chunk always
    /// ends between two JSON values, never inside a string: each chunk is valid UTF-8 by itself.
    public func writeJSON<E: Error>(chunkBytes: Int, _ emit: ([UInt8]) throws(E) -> Void) throws(E) {
        var json: [UInt8] = []
        json.reserveCapacity(min(chunkBytes, 1 << 20) + 64)
        func flushIfFull() throws(E) {
            if json.count >= chunkBytes {
                try emit(json)
                json.removeAll(keepingCapacity: true)
            }
        }
        json.appendRaw(#"{"protocol":"#)
        json.appendJSONString(protocolName)
        json.appendRaw(#","drop_id":"#)
        json.appendDecimal(dropID)
        json.appendRaw(#","commitment":"#)
        json.appendJSONString(commitment)
        json.appendRaw(#","seed":"#)
        json.appendJSONString(seed.lowercaseHex)
        json.appendRaw(#","beacon":"#)
        json.appendJSONString(beacon)
        json.appendRaw(#","entries_digest":"#)
        json.appendJSONString(entriesDigest)
        json.appendRaw(#","stock":"#)
        json.appendDecimal(stock)
        json.appendRaw(#","waitlist_depth":"#)
        json.appendDecimal(waitlistDepth)
        json.appendRaw(#","entries":["#)
        let entries = canonicalEntries
        for index in 0..<entries.count {
            json.appendRaw(index == 0 ? "[" : ",[")
            json.appendDecimal(entries.userIDs[index])
            json.append(UInt8(ascii: ","))
            json.appendDecimal(entries.tickets(at: index))
            json.append(UInt8(ascii: "]"))
            try flushIfFull()
        }
        json.appendRaw(#"],"winners":["#)
        for (index, value) in winners.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.appendDecimal(value)
            try flushIfFull()
        }
        json.appendRaw(#"],"waitlist":["#)
        for (index, value) in waitlist.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.appendDecimal(value)
            try flushIfFull()
        }
        json.appendRaw("]}")
        try emit(json)
    }

    /// Parses a bundle, refusing anything that is not exactly the documented object: every key present
    /// once, no other key, each value of its type. Whitespace and key order are free.
    public init(jsonBytes: [UInt8]) throws(AuditBundleDecodingError) {
        self = try jsonBytes.withUnsafeBufferPointer { buffer throws(AuditBundleDecodingError) in
            try AuditBundle(jsonBuffer: buffer)
        }
    }

    /// Parses a bundle held anywhere (an array, a memory-mapped file): the entries go straight
    /// into flat arrays, and the document itself is never copied.
    public init(jsonBuffer: UnsafeBufferPointer<UInt8>) throws(AuditBundleDecodingError) {
        var fields = Fields()
        var reader = JSONReader(jsonBuffer)
        do {
            try reader.readObject { key, reader in try fields.read(key, from: &reader) }
            try reader.expectEnd()
        } catch let error as AuditBundleDecodingError {
            throw error
        } catch {
            throw AuditBundleDecodingError(.malformedJSON, field: nil, "malformed JSON: \(error)")
        }
        self = try fields.bundle()
    }
}

/// The values read so far, each `nil` until its key shows up.
private struct Fields {
    var protocolName: String?
    var dropID: Int?
    var commitment: String?
    var seed: [UInt8]?
    var beacon: String?
    var entriesDigest: String?
    var stock: Int?
    var waitlistDepth: Int?
    var entries: CanonicalEntries?
    var winners: [Int]?
    var waitlist: [Int]?

    mutating func read(_ key: String, from reader: inout JSONReader) throws {
        do {
            switch key {
            case "protocol": try Self.set(&protocolName, key, reader.readString())
            case "drop_id": try Self.set(&dropID, key, reader.readInt())
            case "commitment": try Self.set(&commitment, key, reader.readString())
            case "seed": try Self.set(&seed, key, Self.hexBytes(reader.readString(), key))
            case "beacon": try Self.set(&beacon, key, reader.readString())
            case "entries_digest": try Self.set(&entriesDigest, key, reader.readString())
            case "stock": try Self.set(&stock, key, reader.readInt())
            case "waitlist_depth": try Self.set(&waitlistDepth, key, reader.readInt())
            case "entries": try Self.set(&entries, key, Self.readEntries(&reader))
            case "winners": try Self.set(&winners, key, reader.readIntArray())
            case "waitlist": try Self.set(&waitlist, key, reader.readIntArray())
            default: throw AuditBundleDecodingError(.unknownField, field: key, "not a field of an audit bundle")
            }
        } catch let error as JSONReader.Failure {
            throw AuditBundleDecodingError(.invalidField, field: key, error.description)
        }
    }

    func bundle() throws(AuditBundleDecodingError) -> AuditBundle {
        AuditBundle(
            protocolName: try Self.required(protocolName, "protocol"), dropID: try Self.required(dropID, "drop_id"),
            commitment: try Self.required(commitment, "commitment"), seed: try Self.required(seed, "seed"),
            beacon: try Self.required(beacon, "beacon"), entriesDigest: try Self.required(entriesDigest, "entries_digest"),
            stock: try Self.required(stock, "stock"), waitlistDepth: try Self.required(waitlistDepth, "waitlist_depth"),
            entries: try Self.required(entries, "entries"), winners: try Self.required(winners, "winners"),
            waitlist: try Self.required(waitlist, "waitlist"))
    }

    private static func set<Value>(_ slot: inout Value?, _ key: String, _ value: Value) throws(AuditBundleDecodingError) {
        guard slot == nil else { throw AuditBundleDecodingError(.duplicateField, field: key, "appears more than once") }
        slot = value
    }

    private static func required<Value>(_ value: Value?, _ key: String) throws(AuditBundleDecodingError) -> Value {
        guard let value else { throw AuditBundleDecodingError(.missingField, field: key, "is missing") }
        return value
    }

    private static func hexBytes(_ text: String, _ key: String) throws(AuditBundleDecodingError) -> [UInt8] {
        guard let bytes = [UInt8](lowercaseHex: text) else {
            throw AuditBundleDecodingError(.invalidField, field: key, "expected lowercase hex")
        }
        return bytes
    }

    private static func readEntries(_ reader: inout JSONReader) throws -> CanonicalEntries {
        var entries = CanonicalEntries()
        try reader.readArray { index, reader in
            var pair: (userID: Int, tickets: Int) = (0, 0)
            var count = 0
            try reader.readArray { position, reader in
                let value = try reader.readInt()
                switch position {
                case 0: pair.userID = value
                case 1: pair.tickets = value
                default: break
                }
                count = position + 1
            }
            guard count == 2 else {
                throw AuditBundleDecodingError(.invalidField, field: "entries", "element \(index) is not [user_id, tickets]")
            }
            entries.append(userID: pair.userID, tickets: pair.tickets)
        }
        return entries
    }
}

extension [UInt8] {
    fileprivate mutating func appendRaw(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
    fileprivate mutating func appendJSONString(_ text: String) {
        append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                append(UInt8(ascii: "\\"))
                append(byte)
            case 0x0A: appendRaw(#"\n"#)
            case 0x0D: appendRaw(#"\r"#)
            case 0x09: appendRaw(#"\t"#)
            case 0..<0x20:
                appendRaw(#"\u00"#)
                append(contentsOf: [byte].lowercaseHex.utf8)
            default: append(byte)
            }
        }
        append(UInt8(ascii: "\""))
    }
}
