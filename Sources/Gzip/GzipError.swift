/// zlib refused: the status is zlib's return code.
public struct GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case initialization = "gzip-init"
        case compression = "gzip-compress"
        case decompression = "gzip-decompress"
        case finished = "gzip-finished"
    }

    public let code: Code
    public let status: Int32

    public var description: String { "\(code.rawValue) (zlib status \(status))" }
}
