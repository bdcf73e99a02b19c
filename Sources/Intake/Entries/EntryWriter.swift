import CoreMetrics
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Storage

/// Group commit for entries: concurrent entry requests are queued and committed together, many
/// rows per transaction, by writers that each own one PostgreSQL connection and one thread.
///
/// A writer takes everything queued (up to `maxBatch`) as one batch. While a batch commits, the
/// next one accumulates: another writer starts only when that commit ends, or at once when a
/// full batch is already waiting (then several commits overlap). So batches grow with load, a
/// quiet system still answers a lone request at once, and each commit carries as many entries
/// as arrived during the previous one. A caller is resumed only after its batch committed. When a
/// batch fails, nobody is left hanging: a lost connection fails the whole batch (clients retry
/// safely, entries are idempotent), transient conflicts retry it, and any other error splits it
/// in halves until the one bad request is isolated and answered with its error.
public final class EntryWriter: Service, @unchecked Sendable {
    private struct Pending {
        let request: EntryRequest
        let continuation: CheckedContinuation<EntryOutcome, any Error>
    }

    private let configuration: PostgresConfiguration
    private let maxBatch: Int
    private let writerCount: Int
    private let metrics: IntakeMetrics
    private let logger: Logger
    private let facts = DropFactsCache()
    /// Guards `queue`, `head`, `committing`, `stopping`, `running` and `onStopped`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var head = 0
    /// Writers whose batch is being committed.
    private var committing = 0
    private var stopping = false
    private var running: Int
    private var onStopped: [CheckedContinuation<Void, Never>] = []

    static let transientRetries = 3

    public init(configuration: PostgresConfiguration, writers: Int, maxBatch: Int, metrics: IntakeMetrics, logger: Logger) {
        precondition(writers > 0 && maxBatch > 0)
        self.configuration = configuration
        self.maxBatch = maxBatch
        self.writerCount = writers
        self.metrics = metrics
        self.logger = logger
        self.running = writers
        for index in 0..<writers {
            let thread = Thread { self.writerLoop(index) }
            thread.name = "entry-writer-\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Queues the request and returns once its batch has committed (or failed).
    public func submit(_ request: EntryRequest) async throws -> EntryOutcome {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: Problem.unavailable("the service is shutting down"))
                return
            }
            queue.append(Pending(request: request, continuation: continuation))
            // While a batch commits, this request waits for the next one: waking a writer now
            // would only have it find that out (unless a full batch is already waiting).
            if committing == 0 || queue.count - head >= maxBatch { condition.signal() }
            condition.unlock()
        }
    }

    /// Runs until graceful shutdown, then commits what is queued and stops the writers.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Refuses new requests, lets the writers finish the queue, and waits for them to end.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            stopping = true
            if running == 0 {
                condition.unlock()
                continuation.resume()
                return
            }
            onStopped.append(continuation)
            condition.broadcast()
            condition.unlock()
        }
    }

    // MARK: writer threads

    private func writerLoop(_ index: Int) {
        var connection: PostgresConnection?
        while let batch = nextBatch() {
            metrics.entryBatchSize.record(batch.count)
            commit(batch, writer: index, connection: &connection)
            condition.lock()
            // No other writer is woken: this one goes straight back to `nextBatch` and takes
            // what accumulated itself. (Waking them all, as this did, put every idle writer
            // through a wake-up and back to sleep for each commit; with `entries.max_batch` 1
            // there are as many writers as the pool has connections.)
            committing -= 1
            condition.unlock()
        }
        connection = nil
        condition.lock()
        running -= 1
        let waiters = running == 0 ? onStopped : []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Blocks until there is a batch to commit: requests are queued, and either no other batch is
    /// committing or a full batch is waiting. Nil once stopping and the queue is empty.
    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let queued = queue.count - head
            if queued == 0 && stopping { return nil }
            if queued > 0 && (committing == 0 || queued >= maxBatch || stopping) { break }
            condition.wait()
        }
        committing += 1
        let end = min(queue.count, head + maxBatch)
        let batch = Array(queue[head..<end])
        head = end
        // Another full batch is waiting: its commit may overlap this one.
        if queue.count - head >= maxBatch { condition.signal() }
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return batch
    }

    private func commit(_ batch: [Pending], writer: Int, connection: inout PostgresConnection?, attempt: Int = 1) {
        let reused = connection != nil
        do {
            let live: PostgresConnection
            if let existing = connection, existing.isHealthy {
                live = existing
            } else {
                connection = nil
                live = try PostgresConnection(configuration: configuration)
                connection = live
            }
            let outcomes = try EntryStore.commit(batch.map(\.request), writer: writer, facts: facts, on: live)
            for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
        } catch let error as PostgresError where error.code == .connectionFailure {
            connection = nil
            if reused && attempt < Self.transientRetries {
                // An idle connection can look healthy after the server restarted; a fresh one
                // decides. Retrying is safe even after a lost COMMIT: entries are idempotent.
                commit(batch, writer: writer, connection: &connection, attempt: attempt + 1)
            } else {
                fail(batch, with: error)
            }
        } catch let error as PostgresError where error.isTransient && attempt < Self.transientRetries {
            commit(batch, writer: writer, connection: &connection, attempt: attempt + 1)
        } catch {
            if batch.count > 1 {
                let middle = batch.count / 2
                commit(Array(batch[..<middle]), writer: writer, connection: &connection)
                commit(Array(batch[middle...]), writer: writer, connection: &connection)
            } else {
                fail(batch, with: error)
            }
        }
    }

    private func fail(_ batch: [Pending], with error: any Error) {
        logger.error("entry batch failed", metadata: ["requests": .stringConvertible(batch.count), "error": .string(String(describing: error))])
        for pending in batch { pending.continuation.resume(throwing: error) }
    }
}
