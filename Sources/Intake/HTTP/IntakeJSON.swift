import Foundation
import Hummingbird
import ShopDomain
import TextEncodings

/// JSON in and out: snake_case keys (each type names its own), RFC 3339 timestamps.
enum IntakeJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }()

    static let decoder = JSONDecoder()
}

/// RFC 3339 timestamps: written in UTC with milliseconds, read with or without fractions.
enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, by integer arithmetic: every response carries timestamps, and
    /// Foundation's format styles cost more than the rest of encoding an entry.
    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, time) = millisecondOfDay < 0 ? (days - 1, millisecondOfDay + 86_400_000) : (days, millisecondOfDay)
        let (year, month, dayOfMonth) = CivilDate.fromDays(day)
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int64, width: Int) {
            let digits = String(value)
            for _ in digits.count..<width { text.append("0") }
            text.append(digits)
        }
        append(year, width: 4)
        text.append("-")
        append(month, width: 2)
        text.append("-")
        append(dayOfMonth, width: 2)
        text.append("T")
        append(time / 3_600_000, width: 2)
        text.append(":")
        append(time / 60_000 % 60, width: 2)
        text.append(":")
        append(time / 1000 % 60, width: 2)
        text.append(".")
        append(time % 1000, width: 3)
        text.append("Z")
        return text
    }

    /// RFC 3339 lets `T` and `Z` be written in lower case (§5.6); Foundation reads only upper case.
    /// Foundation also stops at the end of a timestamp and ignores what follows (`…Z*` was read),
    /// so the whole text must have the RFC's shape first.
    static func parse(_ text: String) -> Date? {
        let text = text.uppercased()
        guard text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/) != nil else { return nil }
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
