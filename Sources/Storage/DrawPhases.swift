import Foundation

/// How long each phase of a draw's close took, in order, for the close job's log line: at ten
/// million entries the close is mostly waiting on PostgreSQL, and only a split by phase says
/// where (see docs/benchmarks.md, "The ten-million-entry raffle").
public struct DrawPhases: Sendable, Equatable {
    public private(set) var phases: [(name: String, duration: Duration)] = []

    public init() {}

    /// Runs `work` and records its duration under `name`.
    @discardableResult
    public mutating func measure<T, E: Error>(_ name: String, _ work: () throws(E) -> T) throws(E) -> T {
        let start = ContinuousClock.now
        let value = try work()
        phases.append((name, start.duration(to: .now)))
        return value
    }

    public mutating func record(_ name: String, _ duration: Duration) {
        phases.append((name, duration))
    }

    public mutating func append(_ other: DrawPhases) {
        phases += other.phases
    }

    /// One entry per phase, `<name>_s`, in seconds with millisecond precision (log metadata).
    public var secondsByKey: [String: String] {
        var keyed: [String: String] = [:]
        for phase in phases {
            let (seconds, attoseconds) = phase.duration.components
            keyed["\(phase.name)_s"] = String(format: "%.3f", Double(seconds) + Double(attoseconds) / 1e18)
        }
        return keyed
    }

    public static func == (lhs: DrawPhases, rhs: DrawPhases) -> Bool {
        lhs.phases.map(\.name) == rhs.phases.map(\.name) && lhs.phases.map(\.duration) == rhs.phases.map(\.duration)
    }
}
