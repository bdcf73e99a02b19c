import Redis

/// The queues' sizes for the metrics sampler: counts only, in two pipelined round trips of
/// O(1) commands (a few per queue, and one per queue and registered worker).
public struct QueueDepths: Sendable, Equatable {
    /// Jobs waiting in each queue's list, by queue name.
    public let ready: [String: Int]
    /// Jobs taken by workers and not yet acknowledged (in any worker's in-flight hash, the
    /// jobs of dead workers included until the rescuer takes them back).
    public let inFlight: Int
    /// Retries and scheduled jobs waiting for their time.
    public let delayed: Int
    /// Jobs that used their last attempt.
    public let dead: Int
    /// Workers that heartbeated within the liveness window.
    public let liveWorkers: Int
}

extension JobQueue {
    /// ``overview(liveWithinMilliseconds:)`` summed over the queues, as the metrics sampler wants it.
    public func depths(liveWithinMilliseconds: Int = 3000) async throws -> QueueDepths {
        let overview = try await overview(liveWithinMilliseconds: liveWithinMilliseconds)
        return QueueDepths(
            ready: Dictionary(uniqueKeysWithValues: overview.queues.map { ($0.queue, $0.waiting) }),
            inFlight: overview.queues.reduce(0) { $0 + $1.inFlight },
            delayed: overview.queues.reduce(0) { $0 + $1.delayed },
            dead: overview.queues.reduce(0) { $0 + $1.dead },
            liveWorkers: overview.liveWorkers.count)
    }
}
