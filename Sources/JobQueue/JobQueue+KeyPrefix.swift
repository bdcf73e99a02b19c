extension JobQueue {
    /// The job queue's key prefix inside a deployment's Redis key prefix.
    ///
    /// It holds no hash tag: each queue's keys carry their own, `{queue-name}` (see
    /// ``QueueKeys``), so that on a Redis Cluster the queues spread over the shards while each
    /// queue's scripts stay on one slot. (docs/scaling.md has the migration note for keys
    /// written under the former single `{jobs}` tag.)
    public static func keyPrefix(deployment: String) -> String { deployment + "jobs:" }

    /// The Redis list of the jobs waiting in `queue` (for tests and benchmarks that look inside).
    public func waitingListKey(_ queue: String) -> String { keys.of(queue).list }

    /// The Redis hash of the jobs `worker` holds from `queue`.
    public func inFlightKey(_ queue: String, worker: String) -> String { keys.of(queue).inFlight(worker) }
}
