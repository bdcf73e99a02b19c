/// One problem with one input field, phrased for the person who sent it.
public struct ValidationIssue: Sendable, Equatable, CustomStringConvertible {
    /// The field as the client names it (`closes_at`, not `closesAt`).
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// Input that breaks one or more rules; every broken rule is reported at once, so a client can
/// fix its request in one round trip.
public struct ValidationFailure: Error, Sendable, CustomStringConvertible {
    public let issues: [ValidationIssue]

    public init(_ issues: [ValidationIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "; ") }

    /// Throws when `issues` is not empty.
    public static func check(_ issues: [ValidationIssue]) throws {
        if !issues.isEmpty { throw ValidationFailure(issues) }
    }
}
