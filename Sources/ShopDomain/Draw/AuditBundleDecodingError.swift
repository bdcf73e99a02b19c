/// Why bytes are not an audit bundle. `field` names the JSON key at fault (`nil` when the
/// document itself is broken) and the description says what was expected there.
public struct AuditBundleDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Not JSON, or not a JSON object.
        case malformedJSON = "malformed-json"
        case missingField = "missing-field"
        case unknownField = "unknown-field"
        case duplicateField = "duplicate-field"
        /// The field is present but its value has the wrong type or form.
        case invalidField = "invalid-field"
    }

    public let code: Code
    public let field: String?
    public let description: String

    init(_ code: Code, field: String?, _ detail: String) {
        self.code = code
        self.field = field
        self.description = field.map { "field \"\($0)\": \(detail)" } ?? detail
    }
}
