/// What a new password must satisfy.
public enum PasswordPolicy {
    public static let minimumLength = 8
    /// bcrypt reads only the first 72 bytes; a longer password would be silently truncated, so
    /// it is refused instead.
    public static let maximumBytes = 72

    /// The problems with `password` as a new password; empty when it is acceptable.
    public static func issues(_ password: String, field: String = "password") -> [ValidationIssue] {
        let control = ControlCharacters.issues(password, field: field)
        if !control.isEmpty { return control }
        if password.count < minimumLength {
            return [ValidationIssue(field: field, message: "must be at least \(minimumLength) characters")]
        }
        if password.utf8.count > maximumBytes {
            return [ValidationIssue(field: field, message: "must be at most \(maximumBytes) bytes")]
        }
        return []
    }
}
