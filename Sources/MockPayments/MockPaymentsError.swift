/// Why the mock payment provider cannot do what was asked. The description is one line, safe to
/// print and log: it never holds a secret.
public struct MockPaymentsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A configuration value is out of range; the description names its flag.
        case invalidConfiguration = "invalid-configuration"
        /// The provider stopped (or failed to start) before it listened.
        case notListening = "not-listening"
    }

    public let code: Code
    public let description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A bad value, named by the flag of `fastest-shop mock-payments` that sets it.
    static func invalid(_ flag: String, _ problem: String) -> MockPaymentsError {
        MockPaymentsError(.invalidConfiguration, "mock-payments: \(flag) \(problem)")
    }
}
