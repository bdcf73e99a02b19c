import CZlib

/// Decompresses a whole gzip stream (tests and tools reading a compressed response).
public enum GzipDecoder {
    public static func decompress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        let initialized = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initialized == Z_OK else { throw GzipError(code: .initialization, status: initialized) }
        defer { inflateEnd(&stream) }
        let (status, output) = stream.pump(input, step: { inflate(&$0, Z_NO_FLUSH) }, more: { status, _ in status == Z_OK })
        guard status == Z_STREAM_END else { throw GzipError(code: .decompression, status: status) }
        return output
    }
}
