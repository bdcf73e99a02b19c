import Foundation
import Hummingbird
import NIOCore

extension CacheInvalidations {
    static func productKey(_ id: Int) -> String { "product:\(id)" }
    static func dropKey(_ id: Int) -> String { "drop:\(id)" }

    /// A public read answered from the local cache, or loaded and kept there. The encoded body is
    /// kept, so a hit encodes nothing. `load` answers nil for "not found" (not kept).
    func cachedJSON<Document: Encodable>(
        key: String, onHit: () -> Void, load: () async throws -> Document?
    ) async throws -> Response? {
        if let body = cache.value(for: key) {
            onHit()
            return Self.jsonResponse(body)
        }
        let ticket = cache.ticket()
        guard let document = try await load() else { return nil }
        let body = ByteBuffer(bytes: try IntakeJSON.encoder.encode(document))
        cache.store(body, for: key, ticket: ticket)
        return Self.jsonResponse(body)
    }

    private static func jsonResponse(_ body: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }
}
