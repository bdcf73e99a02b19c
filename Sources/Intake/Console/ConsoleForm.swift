import Foundation

/// The fields of an `application/x-www-form-urlencoded` body, as the console's forms send them.
/// A field given twice keeps its first value.
struct ConsoleForm: Sendable {
    let fields: [String: String]

    init(_ body: String) {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
            if fields[name] == nil { fields[name] = value }
        }
        self.fields = fields
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field's text, nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
