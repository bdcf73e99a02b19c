import Foundation

/// Every job kind the deployment knows, loaded from one JSON file per kind in `jobs/`.
///
/// Loading is strict: an unknown field, a missing one or a bad value stops start-up with an error
/// naming the file and the field, because a typo in a retry policy otherwise surfaces only when
/// a job misbehaves in production.
public struct JobCatalog: Sendable {
    public let definitions: [String: JobDefinition]

    public init(_ definitions: [JobDefinition]) {
        self.definitions = Dictionary(definitions.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(kind: String) -> JobDefinition? { definitions[kind] }

    public func definition(_ kind: String) throws -> JobDefinition {
        guard let definition = definitions[kind] else {
            throw JobQueueError(code: .unknownKind, message: "no job kind '\(kind)' in the catalog")
        }
        return definition
    }

    public var queues: [String] { Array(Set(definitions.values.map(\.queue))).sorted() }

    static let fields: [String] = [
        "kind", "queue", "timeout_s", "max_attempts", "backoff_base_ms", "backoff_cap_ms", "visibility_timeout_s",
    ]

    /// Loads every `*.json` file of `directory`.
    public static func load(directory: String) throws -> JobCatalog {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw JobCatalogError(file: directory, field: nil, problem: "cannot read the job catalog directory")
        }
        guard !files.isEmpty else {
            throw JobCatalogError(file: directory, field: nil, problem: "holds no job definitions (*.json)")
        }
        var definitions: [JobDefinition] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw JobCatalogError(file: path, field: nil, problem: "cannot be read")
            }
            definitions.append(try parse(data, file: path))
        }
        let kinds = definitions.map(\.kind)
        if let duplicate = kinds.first(where: { kind in kinds.filter { $0 == kind }.count > 1 }) {
            throw JobCatalogError(file: directory, field: "kind", problem: "'\(duplicate)' is defined twice")
        }
        return JobCatalog(definitions)
    }

    static func parse(_ data: Data, file: String) throws -> JobDefinition {
        guard let fields = try? JSONDecoder().decode([String: CatalogValue].self, from: data) else {
            throw JobCatalogError(file: file, field: nil, problem: "is not a JSON object")
        }
        for key in fields.keys.sorted() where !Self.fields.contains(key) {
            throw JobCatalogError(file: file, field: key, problem: "is not a known field (known: \(Self.fields.joined(separator: ", ")))")
        }
        func name(_ field: String) throws -> String {
            guard case .string(let value) = fields[field] else {
                throw JobCatalogError(file: file, field: field, problem: "is missing or not a string")
            }
            let allowed = value.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
            }
            guard !value.isEmpty, value.count <= 64, allowed else {
                throw JobCatalogError(file: file, field: field, problem: "must be 1-64 characters of a-z, 0-9, '.', '_', '-'")
            }
            return value
        }
        func number(_ field: String, _ range: ClosedRange<Double>) throws -> Double {
            guard case .number(let value) = fields[field] else {
                throw JobCatalogError(file: file, field: field, problem: "is missing or not a number")
            }
            guard range.contains(value) else {
                throw JobCatalogError(file: file, field: field, problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return value
        }
        func integer(_ field: String, _ range: ClosedRange<Double>) throws -> Int {
            let value = try number(field, range)
            guard value == value.rounded() else {
                throw JobCatalogError(file: file, field: field, problem: "must be a whole number, got \(value)")
            }
            return Int(value)
        }
        let kind = try name("kind")
        let expectedFile = kind + ".json"
        guard (file as NSString).lastPathComponent == expectedFile else {
            throw JobCatalogError(file: file, field: "kind", problem: "'\(kind)' must be defined in a file named \(expectedFile)")
        }
        let base = try integer("backoff_base_ms", 1...86_400_000)
        let cap = try integer("backoff_cap_ms", 1...86_400_000)
        guard cap >= base else {
            throw JobCatalogError(file: file, field: "backoff_cap_ms", problem: "must not be below backoff_base_ms")
        }
        return JobDefinition(
            kind: kind,
            queue: try name("queue"),
            timeoutSeconds: try number("timeout_s", 0.001...86_400),
            maxAttempts: try integer("max_attempts", 1...1000),
            backoffBaseMilliseconds: base,
            backoffCapMilliseconds: cap,
            visibilityTimeoutSeconds: try number("visibility_timeout_s", 0.1...86_400))
    }
}

/// A job catalog file that cannot be used; names the file and, when known, the field.
public struct JobCatalogError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let field: String?
    public let problem: String

    public var description: String {
        if let field { return "job catalog: \(file): field '\(field)' \(problem)" }
        return "job catalog: \(file) \(problem)"
    }
}

public struct JobQueueError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        public let rawValue: String
        public static let unknownKind = Code(rawValue: "unknown-kind")
        public static let invalidJob = Code(rawValue: "invalid-job")
        public static let notFound = Code(rawValue: "not-found")
    }

    public let code: Code
    public let message: String

    public var description: String { "job queue (\(code.rawValue)): \(message)" }
}

/// A JSON value of a catalog file, typed strictly (`true` is not a number, `"3"` is not either).
enum CatalogValue: Decodable {
    case string(String)
    case number(Double)
    case other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if (try? container.decode(Bool.self)) != nil {
            self = .other
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .other
        }
    }
}
