import Foundation
import Gzip
import HTTPTypes
import Hummingbird
import NIOCore
import Postgres
import ShopDomain
import Storage

/// How the audit bundle goes out: streamed chunk by chunk from storage (never a whole document in
/// memory), named by an `ETag` (its SHA-256; a drawn bundle never changes, so it is cacheable for
/// good), and gzip-compressed for a client that accepts it.
extension AuditRoutes {
    static let cacheControl = "public, max-age=31536000, immutable"

    /// The representation a request gets: `gzip` or identity, and its entity tag (distinct per
    /// coding, as a cache keyed by ETag must not mix them up).
    struct Representation {
        let gzip: Bool
        let etag: String

        init(sha256: String, request: Request) {
            gzip = Self.acceptsGzip(request.headers[values: .acceptEncoding])
            etag = gzip ? "\"\(sha256)-gzip\"" : "\"\(sha256)\""
        }

        /// True when `If-None-Match` names this bundle, in either coding (weak comparison).
        static func notModified(_ request: Request, sha256: String) -> Bool {
            let tags = request.headers[values: .ifNoneMatch].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            return tags.contains { tag in
                let opaque = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
                return opaque == "*" || opaque == "\"\(sha256)\"" || opaque == "\"\(sha256)-gzip\""
            }
        }

        /// `gzip` (or `x-gzip`) listed without `q=0`.
        static func acceptsGzip(_ values: [String]) -> Bool {
            for item in values.flatMap({ $0.split(separator: ",") }) {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" else { continue }
                let refused = parts.dropFirst().contains { parameter in
                    guard parameter.hasPrefix("q=") else { return false }
                    return (Double(parameter.dropFirst(2)) ?? 1) == 0
                }
                if !refused { return true }
            }
            return false
        }

        func headers(contentLength: Int?) -> HTTPFields {
            var headers: HTTPFields = [
                .contentType: "application/json", .eTag: etag, .cacheControl: AuditRoutes.cacheControl,
                .vary: "Accept-Encoding",
            ]
            if gzip { headers[.contentEncoding] = "gzip" }
            if let contentLength { headers[.contentLength] = String(contentLength) }
            return headers
        }
    }

    static func notModifiedResponse(_ representation: Representation) -> Response {
        var headers = representation.headers(contentLength: nil)
        headers[.contentType] = nil
        headers[.contentEncoding] = nil
        return Response(status: .notModified, headers: headers)
    }

    /// A stored bundle, read and sent one chunk at a time; compressed on the connection's thread
    /// (the CPU work stays off the event loops), one pooled connection borrowed per chunk.
    static func streamed(_ stored: AuditBundleStore.Stored, dropID: Int, pool: PostgresPool, request: Request) throws -> Response {
        let representation = Representation(sha256: stored.sha256, request: request)
        if Representation.notModified(request, sha256: stored.sha256) { return notModifiedResponse(representation) }
        let encoder = representation.gzip ? try GzipEncoder() : nil
        let body = ResponseBody(contentLength: encoder == nil ? stored.byteCount : nil) { writer in
            for seq in 0..<stored.chunkCount {
                let bytes = try await Self.waitingForTheBusyPool {
                    try await pool.withConnection { connection in
                        let chunk = try AuditBundleStore.chunk(connection, dropID: dropID, seq: seq)
                        return try encoder?.compress(chunk) ?? chunk
                    }
                }
                if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            }
            if let encoder { try await writer.write(ByteBuffer(bytes: try encoder.finish())) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: representation.headers(contentLength: nil), body: body)
    }

    /// Once the 200 and part of the body are out, a busy public pool is no reason to end the
    /// download: a cut-off body is worse than a slow one (the client sees a broken transfer,
    /// not a 503 it could retry). So a chunk waits for the pool again, a bounded number of times;
    /// any other error still ends the response.
    static func waitingForTheBusyPool<T>(attempts: Int = 30, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as PostgresError where error.code == .poolTimeout && attempt < attempts {
                attempt += 1
            }
        }
    }

    /// A bundle rebuilt in memory (drawn before bundles were stored: small, older draws).
    static func whole(_ bundle: AuditBundle, request: Request) throws -> Response {
        let bytes = bundle.jsonBytes()
        var hash = ContentHash()
        hash.update(bytes)
        let sha256 = hash.finalize()
        let representation = Representation(sha256: sha256, request: request)
        if Representation.notModified(request, sha256: sha256) { return notModifiedResponse(representation) }
        var body = bytes
        if representation.gzip {
            let encoder = try GzipEncoder()
            body = try encoder.compress(bytes) + encoder.finish()
        }
        return Response(
            status: .ok, headers: representation.headers(contentLength: nil), body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
