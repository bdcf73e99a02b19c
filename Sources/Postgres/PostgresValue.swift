import Foundation
import TextEncodings

/// A statement parameter in PostgreSQL's text format; `nil` text is SQL NULL.
///
/// Every statement is parameterized: values travel beside the SQL, never inside it.
public struct PostgresValue: Sendable, Hashable {
    public let text: String?

    public init(text: String?) { self.text = text }

    public static let null = PostgresValue(text: nil)
    public static func int(_ value: Int) -> PostgresValue { .init(text: String(value)) }
    public static func int(_ value: Int64) -> PostgresValue { .init(text: String(value)) }
    public static func int(_ value: Int?) -> PostgresValue { value.map { .int($0) } ?? .null }
    public static func text(_ value: String) -> PostgresValue { .init(text: value) }
    public static func text(_ value: String?) -> PostgresValue { .init(text: value) }
    public static func bool(_ value: Bool) -> PostgresValue { .init(text: value ? "t" : "f") }
    public static func double(_ value: Double) -> PostgresValue { .init(text: String(value)) }
    /// A JSON document as text; cast the parameter with `::jsonb` in SQL.
    public static func json(_ value: String) -> PostgresValue { .init(text: value) }

    public static func timestamp(_ value: Date) -> PostgresValue {
        .init(text: PostgresTimestamp.format(value))
    }

    public static func timestamp(_ value: Date?) -> PostgresValue { value.map { .timestamp($0) } ?? .null }

    /// bytea in hex form (`\x…`).
    public static func bytes(_ value: some Collection<UInt8>) -> PostgresValue {
        .init(text: "\\x" + value.lowercaseHex)
    }

    /// An array literal of integers; cast with `::bigint[]`.
    public static func intArray(_ values: some Sequence<Int>) -> PostgresValue {
        var text = "{"
        var first = true
        for value in values {
            if !first { text.append(",") }
            first = false
            text.append(String(value))
        }
        text.append("}")
        return .init(text: text)
    }

    /// An array literal of integers that may be NULL; cast with `::bigint[]` or `::int[]`.
    public static func optionalIntArray(_ values: some Sequence<Int?>) -> PostgresValue {
        .init(text: "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}")
    }

    /// An array literal of text that may be NULL; cast with `::text[]`.
    public static func optionalTextArray(_ values: some Sequence<String?>) -> PostgresValue {
        var text = "{"
        var first = true
        for value in values {
            if !first { text.append(",") }
            first = false
            guard let value else {
                text.append("NULL")
                continue
            }
            text.append(quotedArrayElement(value))
        }
        text.append("}")
        return .init(text: text)
    }

    /// An array literal of text, each element quoted and escaped; cast with `::text[]`.
    public static func textArray(_ values: some Sequence<String>) -> PostgresValue {
        var text = "{"
        var first = true
        for value in values {
            if !first { text.append(",") }
            first = false
            text.append(quotedArrayElement(value))
        }
        text.append("}")
        return .init(text: text)
    }

    private static func quotedArrayElement(_ value: String) -> String {
        var text = "\""
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { text.append("\\") }
            text.unicodeScalars.append(character)
        }
        text.append("\"")
        return text
    }
}
