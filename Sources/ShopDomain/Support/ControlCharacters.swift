/// Text fields refuse the C0 control characters (U+0000–U+001F) and DEL (U+007F).
///
/// libpq and bcrypt read C strings: a NUL cuts a value short where it is stored or hashed (the
/// password `"\u{0}xxxxxxxx"` would pass the length rule and hash as the empty password). The
/// other control characters have no business in an email, a password or a name either, and
/// would end up in logs and pages.
public enum ControlCharacters {
    /// Whether `text` holds one. In UTF-8 these code points are single bytes below 0x80 that
    /// never occur inside a multi-byte sequence, so a byte scan is exact.
    public static func occur(in text: some StringProtocol) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// The issue for `field` when `text` holds a control character; empty otherwise.
    public static func issues(_ text: some StringProtocol, field: String) -> [ValidationIssue] {
        occur(in: text) ? [ValidationIssue(field: field, message: "must not contain control characters (U+0000–U+001F, U+007F)")] : []
    }
}
