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
        let normalized = text.trimmingWhitespace().lowercased()
        let parts = normalized.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              !normalized.contains(where: { $0.isWhitespace })
        else { return nil }
        self.normalized = normalized
    }

    public var description: String { normalized }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
