import Gzip
import Testing

@testable import ShopDomain

/// The gzip coding of the audit route: a stream compressed piece by piece decompresses to the
/// document; a truncated stream is refused.
@Suite struct GzipTests {
    @Test func gzipStreamsRoundTrip() throws {
        let document = try AuditBundleChunkTests.bundle(entries: 20_000).jsonBytes()
        let encoder = try GzipEncoder()
        var compressed: [UInt8] = []
        var offset = 0
        while offset < document.count {
            let end = min(offset + 50_000, document.count)
            compressed += try encoder.compress(Array(document[offset..<end]))
            offset = end
        }
        compressed += try encoder.finish()
        #expect(compressed.count < document.count / 2)
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b], "a gzip header")
        #expect(try GzipDecoder.decompress(compressed) == document)
        #expect(throws: GzipError.self) { try GzipDecoder.decompress(Array(compressed.dropLast(10))) }
    }
}
