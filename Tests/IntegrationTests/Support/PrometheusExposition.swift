import Foundation

/// The samples of a Prometheus text exposition (what `/metrics` answers), for tests that read
/// figures by metric name and labels.
struct PrometheusExposition {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]

    init(_ text: String) {
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            // `name{a="x",b="y"} value` or `name value` (our label values hold no quotes or commas).
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var labels: [String: String] = [:]
            let name: Substring
            if let brace = series.firstIndex(of: "{") {
                name = series[..<brace]
                let body = series[series.index(after: brace)...].dropLast()
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
                }
            } else {
                name = series
            }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        self.samples = samples
    }

    var names: Set<String> { Set(samples.map(\.name)) }

    /// The sum of the samples of `name` whose labels include `labels` (nil if there is none).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.map(\.value).reduce(0, +)
    }
}

/// The metric names a Grafana dashboard's panels query, and which of them no scrape exposes.
enum DashboardMetrics {
    /// Every metric name in the PromQL `expr` of every panel target (rows' nested panels too).
    static func names(dashboard: Data) throws -> Set<String> {
        guard let document = try JSONSerialization.jsonObject(with: dashboard) as? [String: Any] else {
            throw DashboardError(message: "the dashboard is not a JSON object")
        }
        var names: Set<String> = []
        func visit(_ panels: [[String: Any]]) {
            for panel in panels {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    if let expression = target["expr"] as? String { names.formUnion(metricNames(promQL: expression)) }
                }
                visit(panel["panels"] as? [[String: Any]] ?? [])
            }
        }
        visit(document["panels"] as? [[String: Any]] ?? [])
        return names
    }

    /// The metric names of one PromQL expression: identifiers that are not functions (followed by
    /// `(`), keywords, label names (in `{…}` or in `by (…)` and its kin), ranges or strings.
    static func metricNames(promQL: String) -> Set<String> {
        var text = promQL
        for pattern in [#""[^"]*""#, #"\{[^}]*\}"#, #"\[[^\]]*\]"#, #"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        let keywords: Set<String> = [
            "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
        ]
        // (ICU's expressions, for the look-behind: no identifier starts inside a number such as
        // `1e3`, a duration or a Grafana variable.)
        let identifier = try! NSRegularExpression(pattern: #"(?<![0-9A-Za-z_:.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?"#)
        var names: Set<String> = []
        let whole = NSRange(text.startIndex..., in: text)
        for match in identifier.matches(in: text, range: whole) where match.range(at: 2).location == NSNotFound {
            guard let range = Range(match.range(at: 1), in: text) else { continue }
            let name = String(text[range])
            if !keywords.contains(name.lowercased()) { names.insert(name) }
        }
        return names
    }

    /// The dashboard's metric names that none of the expositions has a sample of, sorted.
    static func missing(dashboard: Data, expositions: [PrometheusExposition]) throws -> [String] {
        let exposed = expositions.reduce(into: Set<String>()) { $0.formUnion($1.names) }
        return try names(dashboard: dashboard).subtracting(exposed).sorted()
    }
}

struct DashboardError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
