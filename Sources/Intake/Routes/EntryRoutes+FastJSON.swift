import Foundation
import Hummingbird
import ShopDomain

// The entry route is the one every customer of a draw calls at once. Foundation's JSONDecoder
// and JSONEncoder cost more than the rest of such a request apart from the commit (measured with
// wrk against `serve`: 6.5k → 8k entries/s without them). The body and the answer have one
// common shape each; these read and write exactly that shape, and hand anything else to
// Foundation, so what the route accepts and answers is the same either way.

extension EntryRoutes.EntryBody {
    /// The body as the customer sent it: empty (one ticket), or a JSON object.
    static func parse(_ buffer: ByteBuffer) throws -> Self? {
        guard buffer.readableBytes > 0 else { return nil }
        if let tickets = buffer.withUnsafeReadableBytes({ scanTicketsOnly($0) }) { return Self(tickets: tickets) }
        return try IntakeJSON.decoder.decode(Self.self, from: Data(buffer.readableBytesView))
    }

    /// `{"tickets": N}` with N a plain decimal integer (optional minus, no leading zero, at most
    /// nine digits), whitespace anywhere JSON allows it; nil for anything else.
    static func scanTicketsOnly(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }
        func consume(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = literal.withUTF8Buffer { literal in
                (0..<count).allSatisfy { bytes[index + $0] == literal[$0] }
            }
            if matches { index += count }
            return matches
        }
        skipSpace()
        guard consume("{") else { return nil }
        skipSpace()
        guard consume("\"tickets\"") else { return nil }
        skipSpace()
        guard consume(":") else { return nil }
        skipSpace()
        let negative = consume("-")
        let digitsStart = index
        var value = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, index - digitsStart < 9 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        let digits = index - digitsStart
        guard digits > 0, !(digits > 1 && bytes[digitsStart] == 0x30) else { return nil }
        skipSpace()
        guard consume("}") else { return nil }
        skipSpace()
        guard index == bytes.count else { return nil }
        return negative ? -value : value
    }
}

extension EntryRoutes.EntryDocument {
    /// The answer to an entry request: the JSON the `Encodable` conformance writes, with the same
    /// keys in the same order, written directly when there is no ranking place and no order (every
    /// answer of `POST …/entries`); otherwise through JSONEncoder.
    func response(status: HTTPResponse.Status) throws -> Response {
        guard place == nil, order == nil else { return try .json(self, status: status) }
        var text = "{\"drop_id\":"
        text.reserveCapacity(120)
        text += String(entry.dropID)
        text += ",\"user_id\":"
        text += String(entry.userID)
        text += ",\"tickets\":"
        text += String(entry.tickets)
        text += ",\"status\":\""
        // Raw values are fixed lowercase words: nothing to escape.
        text += self.status.rawValue
        text += "\",\"created_at\":\""
        text += Timestamp.format(entry.createdAt)
        text += "\"}"
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
