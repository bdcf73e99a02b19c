import CZlib

/// A gzip stream (RFC 1952) written piece by piece, for responses too large to compress whole:
/// each ``compress(_:)`` returns what zlib has ready, ``finish()`` the rest and the trailer.
///
/// CPU work on the caller's thread: callers compressing megabytes run it where blocking is
/// allowed (a PostgreSQL connection's thread, a command), never on an event loop.
/// Not thread-safe: one caller at a time (a response streams its chunks in order).
public final class GzipEncoder: @unchecked Sendable {
    private var stream = z_stream()
    private var finished = false

    /// `level` 1 (fastest) … 9 (smallest); the default 6 is zlib's.
    public init(level: Int32 = 6) throws(GzipError) {
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipError(code: .initialization, status: status) }
    }

    deinit { deflateEnd(&stream) }

    public func compress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        try run(input, flush: Z_NO_FLUSH)
    }

    /// The end of the stream; the encoder takes nothing more afterwards.
    public func finish() throws(GzipError) -> [UInt8] {
        defer { finished = true }
        return try run([], flush: Z_FINISH)
    }

    private func run(_ input: [UInt8], flush: Int32) throws(GzipError) -> [UInt8] {
        guard !finished else { throw GzipError(code: .finished, status: Z_STREAM_ERROR) }
        let (status, output) = stream.pump(
            input, step: { deflate(&$0, flush) },
            more: { status, stream in status == Z_OK && (stream.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)) })
        let done = flush == Z_FINISH ? status == Z_STREAM_END : (status == Z_OK || status == Z_BUF_ERROR)
        guard done else { throw GzipError(code: .compression, status: status) }
        return output
    }
}
