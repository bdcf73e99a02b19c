import Logging

/// Runs one kind of job. Delivery is at-least-once: a job may run again after a crash or a
/// rescue, so handlers must be idempotent (they get the job id and attempt number for that).
public protocol JobHandler: Sendable {
    func handle(_ context: JobContext) async throws
}

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    public let job: Job
    private let baseLogger: Logger

    public init(job: Job, logger: Logger) {
        self.job = job
        self.baseLogger = logger
    }

    /// Carries `job.id`, `job.kind` and `job.attempt` metadata. Built on use: most jobs never
    /// log, and at a hundred thousand jobs a second the metadata copies would show.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "job.id"] = .string(job.id)
        logger[metadataKey: "job.kind"] = .string(job.kind)
        logger[metadataKey: "job.attempt"] = .stringConvertible(job.attempt)
        return logger
    }

    public var id: String { job.id }
    public var kind: String { job.kind }
    public var attempt: Int { job.attempt }
    public var payload: String { job.payload }
}

/// Thrown by a handler to ask for a retry no sooner than `afterMilliseconds` (for example a
/// provider's `Retry-After`); the backoff policy still applies when it asks for longer.
public struct RetryLater: Error, CustomStringConvertible {
    public let afterMilliseconds: Int
    public let reason: String

    public init(afterMilliseconds: Int, reason: String) {
        self.afterMilliseconds = afterMilliseconds
        self.reason = reason
    }

    public var description: String { reason }
}

/// Thrown by a handler when retrying cannot help (malformed payload): the job goes to the dead
/// set at once with this reason.
public struct PermanentJobFailure: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A handler written as a closure.
public struct ClosureJobHandler: JobHandler {
    let body: @Sendable (JobContext) async throws -> Void
    public init(_ body: @escaping @Sendable (JobContext) async throws -> Void) { self.body = body }
    public func handle(_ context: JobContext) async throws { try await body(context) }
}
