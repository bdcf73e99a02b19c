/// A configuration value that is missing or invalid. `description` is the one line printed
/// before start-up stops; it names the key and where it can be set, and never echoes a secret.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String {
        if let setting = SettingKey.named(key) {
            return "configuration: \(key) (\(setting.environmentVariable)) \(problem)"
        }
        return "configuration: \(key) \(problem)"
    }
}
