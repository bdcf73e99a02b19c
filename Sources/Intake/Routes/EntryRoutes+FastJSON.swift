import Foundation
import Hummingbird
import ShopDomain

// The entry route is the one every customer of a draw calls at once. Foundation's JSONDecoder
// and JSONEncoder cost more than the rest of such a request apart from the commit (measured with
// wrk against `serve`; figures in docs/benchmarks.md, "Entries, before"). The body and the
// answer have one common shape each; these read and write exactly that shape, and hand anything
// else to Foundation, so what the route accepts and answers is the same either way.

extension EntryRoutes.EntryBody {
    /// The body as the customer sent it: empty (one ticket), or a JSON object. A flat object with
    /// `tickets` a plain decimal integer is read by ``FlatJSONObject``; anything else by JSONDecoder.
    static func parse(_ buffer: ByteBuffer) throws -> Self? {
        guard buffer.readableBytes > 0 else { return nil }
        let object = buffer.withUnsafeReadableBytes { FlatJSONObject(bytes: $0) }
        if let tickets: Int = object?.value(for: "tickets")?.plainInteger() {
            return Self(tickets: tickets)
        }
        return try IntakeJSON.decoder.decode(Self.self, from: Data(buffer.readableBytesView))
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
