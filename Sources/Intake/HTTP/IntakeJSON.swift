import Foundation
import Hummingbird
import ShopDomain

/// JSON in and out: snake_case keys (each type names its own), RFC 3339 timestamps.
enum IntakeJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder = JSONDecoder()
}

/// RFC 3339 timestamps: written in UTC with milliseconds, read with or without fractions.
enum Timestamp {
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

extension Request {
    /// Decodes the JSON body (already bounded by ``BodyLimitMiddleware``) as `T`; a body that
    /// does not fit the schema is an `invalid-request` naming the offending field.
    func decodeJSON<T: Decodable>(as type: T.Type) async throws -> T {
        let buffer = try await body.collect(upTo: .max)
        guard buffer.readableBytes > 0 else {
            throw Problem(.invalidRequest, "a JSON body is required", errors: [ValidationIssue(field: "body", message: "is required")])
        }
        return try IntakeJSON.decoder.decode(T.self, from: Data(buffer.readableBytesView))
    }
}

extension Response {
    /// A JSON response with `status`.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let body = try IntakeJSON.encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
