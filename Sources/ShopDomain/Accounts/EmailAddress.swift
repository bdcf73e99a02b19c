/// An email address in the one form the platform stores and compares: trimmed and lower case,
/// so that `Ann@Example.com ` and `ann@example.com` are the same account.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    public let normalized: String

    /// Longest address accepted, in Unicode code points as sent (RFC 5321's path limit, counted
    /// the way JSON Schema's maxLength counts, so the OpenAPI document can state it).
    public static let maximumLength = 254

    /// Normalises `text`; nil when it is not plausibly an address (one `@` with text on both
    /// sides and a dot in the domain). Deliverability is the mail system's business, not ours.
    public init?(_ text: String) {
        // Tabs and line breaks are trimmed as whitespace below; a NUL or another control
        // character is not, and must never reach the store.
        guard !ControlCharacters.occur(in: text) else { return nil }
        guard text.unicodeScalars.count <= Self.maximumLength else { return nil }
        // Read code point by code point, as the OpenAPI document's pattern reads it: grapheme
        // clusters would glue a space to the emoji modifier after it, or `@` to a combining mark.
        let normalized = text.trimmingWhitespace().lowercased()
        let scalars = normalized.unicodeScalars
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            parts[1].first != ".", parts[1].last != ".",
            !scalars.contains(where: \.properties.isWhitespace)
        else { return nil }
        self.normalized = normalized
    }

    public var description: String { normalized }
}

extension String {
    /// Without leading and trailing Unicode `White_Space` code points.
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
