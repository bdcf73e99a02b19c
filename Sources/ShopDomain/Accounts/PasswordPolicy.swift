/// What a new password must satisfy.
public enum PasswordPolicy {
    /// In Unicode code points, as JSON Schema's minLength counts.
    public static let minimumLength = 8
    /// bcrypt reads only the first 72 bytes; a longer password would be silently truncated, so
    /// it is refused instead.
    public static let maximumBytes = 72
    /// Code points of any kind a password may hold: 18 × 4 (the longest UTF-8 sequence) = 72
    /// bytes. An ASCII password may have 72. The rule is the byte limit made countable, so the
    /// OpenAPI document states it exactly (maxLength and a pattern cannot count bytes).
    public static let maximumAnyCharacters = maximumBytes / 4

    /// The problems with `password` as a new password; empty when it is acceptable.
    public static func issues(_ password: String, field: String = "password") -> [ValidationIssue] {
        let control = ControlCharacters.issues(password, field: field)
        if !control.isEmpty { return control }
        let length = password.unicodeScalars.count
        if length < minimumLength {
            return [ValidationIssue(field: field, message: "must be at least \(minimumLength) characters")]
        }
        let ascii = password.utf8.allSatisfy { $0 < 0x80 }
        if length > (ascii ? maximumBytes : maximumAnyCharacters) {
            return [
                ValidationIssue(
                    field: field,
                    message:
                        "must be at most \(maximumBytes) ASCII characters, or \(maximumAnyCharacters) of any kind (bcrypt reads \(maximumBytes) bytes)"
                )
            ]
        }
        return []
    }
}
