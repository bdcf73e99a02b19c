/// How one kind of job runs: its queue, limits and retry schedule (a file in `jobs/`).
public struct JobDefinition: Sendable, Equatable {
    public let kind: String
    public let queue: String
    /// A run taking longer than this is cancelled and counts as a failed attempt.
    public let timeoutSeconds: Double
    public let maxAttempts: Int
    /// Retry n waits a random time in 0...min(cap, base × 2^(n−1)) ("full jitter").
    public let backoffBaseMilliseconds: Int
    public let backoffCapMilliseconds: Int
    /// Seconds after its worker's last heartbeat before a running job is given to another worker.
    public let visibilityTimeoutSeconds: Double

    public init(
        kind: String, queue: String, timeoutSeconds: Double, maxAttempts: Int,
        backoffBaseMilliseconds: Int, backoffCapMilliseconds: Int, visibilityTimeoutSeconds: Double
    ) {
        self.kind = kind
        self.queue = queue
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
        self.backoffBaseMilliseconds = backoffBaseMilliseconds
        self.backoffCapMilliseconds = backoffCapMilliseconds
        self.visibilityTimeoutSeconds = visibilityTimeoutSeconds
    }

    /// How long a job may stay in a worker's in-flight hash before the rescuer takes it even from
    /// a worker that still heartbeats: its timeout (the watchdog cancels it then and its outcome
    /// is recorded at once) plus its visibility timeout, the same margin a worker gone quiet gets.
    public var inFlightDeadlineMilliseconds: Int { Int((timeoutSeconds + visibilityTimeoutSeconds) * 1000) }

    /// The delay before attempt `attempt + 1` after attempt `attempt` failed.
    public func backoffMilliseconds(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Int {
        let exponent = min(max(attempt - 1, 0), 40)
        let ceiling = min(
            backoffCapMilliseconds,
            backoffBaseMilliseconds.multipliedReportingOverflow(by: 1 << exponent).overflow
                ? backoffCapMilliseconds : backoffBaseMilliseconds << exponent)
        return ceiling <= 0 ? 0 : Int.random(in: 0...ceiling, using: &generator)
    }
}
