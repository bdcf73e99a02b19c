import Foundation
import Testing

@testable import JobQueue

@Suite struct JobCatalogTests {
    func load(_ files: [String: String]) throws -> JobCatalog {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try JobCatalog.load(directory: directory.path)
    }

    let valid = """
        {"kind": "order.charge", "queue": "payments", "timeout_s": 30, "max_attempts": 8,
         "backoff_base_ms": 500, "backoff_cap_ms": 30000, "visibility_timeout_s": 10}
        """

    @Test func loadsTheRepositoryCatalog() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalog = try JobCatalog.load(directory: root.appendingPathComponent("jobs").path)
        #expect(catalog["drop.close"]?.queue == "drops")
        #expect(catalog["order.charge"]?.queue == "payments")
        #expect(catalog["order.expire"] != nil && catalog["noop"] != nil && catalog["probe"] != nil)
    }

    @Test func parsesEveryField() throws {
        let definition = try #require(try load(["order.charge.json": valid])["order.charge"])
        #expect(
            definition
                == JobDefinition(
                    kind: "order.charge", queue: "payments", timeoutSeconds: 30, maxAttempts: 8,
                    backoffBaseMilliseconds: 500, backoffCapMilliseconds: 30000, visibilityTimeoutSeconds: 10))
    }

    @Test(arguments: [
        ("\"timeot_s\": 30", "timeot_s", "is not a known field"),
        ("\"max_attempts\": \"8\"", "max_attempts", "is missing or not a number"),
        ("\"max_attempts\": 0", "max_attempts", "must be between"),
        ("\"max_attempts\": 2.5", "max_attempts", "whole number"),
        ("\"queue\": \"Pay ments\"", "queue", "must be 1-64 characters"),
        ("\"backoff_cap_ms\": 100", "backoff_cap_ms", "must not be below"),
        ("\"visibility_timeout_s\": true", "visibility_timeout_s", "not a number"),
    ])
    func refusesABadFieldNamingFileAndField(change: String, field: String, problem: String) throws {
        let key = change.split(separator: ":")[0]
        var lines = valid.replacingOccurrences(of: "\n", with: " ")
        if let range = lines.range(of: "\(key): [^,}]*", options: .regularExpression) {
            lines.replaceSubrange(range, with: change)
        } else {
            lines = lines.replacingOccurrences(of: "{", with: "{\(change), ")
        }
        #expect {
            _ = try load(["order.charge.json": lines])
        } throws: { error in
            let text = "\(error)"
            return text.contains("order.charge.json") && text.contains("'\(field)'") && text.contains(problem)
        }
    }

    @Test func refusesAKindInTheWrongFile() throws {
        #expect(throws: JobCatalogError.self) { _ = try load(["charge.json": valid]) }
    }

    @Test func backoffUsesFullJitterUnderTheCap() {
        let definition = JobDefinition(
            kind: "k", queue: "q", timeoutSeconds: 1, maxAttempts: 10,
            backoffBaseMilliseconds: 100, backoffCapMilliseconds: 1000, visibilityTimeoutSeconds: 1)
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let ceiling = min(1000, 100 << (attempt - 1))
            let delays = (0..<200).map { _ in definition.backoffMilliseconds(afterAttempt: attempt, using: &generator) }
            #expect(delays.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(Set(delays).count > 1, "jittered, not fixed")
        }
    }

    @Test func envelopesRoundTripIncludingSeparatorsInThePayload() {
        let job = Job(
            id: "abc-1", kind: "order.charge", queue: "payments", attempt: 2, maxAttempts: 8,
            visibilityMilliseconds: 10_000, enqueuedAtMilliseconds: 1_700_000_000_000,
            uniqueKey: "order.charge:42", payload: "{\"a\":\"x|y\",\n\"é\":1}")
        #expect(Job(encoded: job.encoded) == job)
        let plain = Job(
            id: "i", kind: "k", queue: "q", attempt: 1, maxAttempts: 1, visibilityMilliseconds: 1,
            enqueuedAtMilliseconds: 0, uniqueKey: nil, payload: "")
        #expect(Job(encoded: plain.encoded) == plain)
        #expect(Job(encoded: Array("v2|x".utf8)) == nil)
    }
}
