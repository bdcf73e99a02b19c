import CoreMetrics
import Logging
import Postgres
import ServiceLifecycle
import Storage

/// Group commit for entries: concurrent entry requests are committed together, many rows per
/// statement, by a ``GroupCommitWriter`` on the intake pool (its `entries.writers` batches in
/// flight borrow connections of `postgres.pool_size`).
///
/// Entries are idempotent, so a failed batch is retried and then halved
/// (``GroupCommitFailurePolicy/retryThenHalve(attempts:)``): a lost connection or a transient
/// conflict commits it again, and any other error splits it until the one bad request is
/// isolated and answered with its error. As a service it commits what is queued on graceful
/// shutdown before the stores close; a request arriving after that gets 503.
public struct EntryWriter: Service {
    private let writer: GroupCommitWriter<EntryRequest, EntryOutcome>

    static let attempts = 3

    public init(pool: PostgresPool, writers: Int, maxBatch: Int, metrics: IntakeMetrics, logger: Logger) {
        precondition(writers > 0 && maxBatch > 0)
        let facts = DropFactsCache()
        writer = GroupCommitWriter(
            pool: pool, maxBatch: maxBatch, writers: writers, policy: .retryThenHalve(attempts: Self.attempts),
            onBatch: { [metrics] in metrics.entryBatchSize.record($0) },
            onFailure: { requests, error in
                logger.error(
                    "entry batch failed", metadata: ["requests": .stringConvertible(requests), "error": .string(String(describing: error))])
            },
            // The writer's slot names its own `drop_entry_counts` row: batches committing at the
            // same time never wait on each other's counter.
            body: { connection, requests, writer in
                try EntryStore.commit(requests, writer: writer, facts: facts, on: connection)
            })
    }

    /// Queues the request and returns once its batch has committed (or failed).
    public func submit(_ request: EntryRequest) async throws -> EntryOutcome {
        try await writer.submit(request)
    }

    /// Runs until graceful shutdown, then commits what is queued.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Refuses new requests and waits until the queued ones are committed.
    public func shutdown() async {
        await writer.close()
    }
}
