import DequeModule

/// ``GroupCommitWriter``'s queue and scheduling as a plain value: each operation changes it and
/// returns the batches to start and whom to wake; the caller does that outside its lock. Generic
/// over the queued items and the parties waiting for the drain, so the rules are tested with
/// plain tokens (no services, no timing).
///
/// The rule: a writer takes everything queued, up to `maxBatch`, as one batch. While a batch
/// commits, the next one accumulates: another writer starts only when no batch is committing or
/// a full batch is already waiting (then commits overlap), never more than `writers` at once. So
/// batches grow with the load, a quiet system still commits a lone request at once, and each
/// commit carries what arrived during the previous one.
struct GroupCommitQueue<Item, DrainWaiter> {
    /// Items for one writer to commit together. `writer` is the writer's slot, in
    /// `0..<writers`: no two batches committing at the same time have the same one.
    struct Batch {
        let writer: Int
        let items: [Item]
    }

    let maxBatch: Int
    let writers: Int
    private(set) var queued: Deque<Item> = []
    /// Writer slots with no batch, the lowest last (taken first).
    private var idleWriters: [Int]
    private(set) var closed = false
    private var drainWaiters: [DrainWaiter] = []

    init(maxBatch: Int, writers: Int) {
        precondition(maxBatch > 0 && writers > 0)
        self.maxBatch = maxBatch
        self.writers = writers
        idleWriters = Array((0..<writers).reversed())
    }

    /// Writers whose batch is being committed.
    var committing: Int { writers - idleWriters.count }

    enum EnqueueAction {
        /// Closed: the item was not queued.
        case refused
        /// Queued for a batch that a committing writer takes when it is done.
        case queued
        /// Start a writer on this batch (which holds the item).
        case start(Batch)
    }

    mutating func enqueue(_ item: Item) -> EnqueueAction {
        if closed { return .refused }
        queued.append(item)
        // Nothing else was startable before this item (every operation starts what it can), so
        // at most one batch is now.
        return nextBatch().map(EnqueueAction.start) ?? .queued
    }

    /// A writer committed its batch (`writer` is the batch's slot). The batches to commit next:
    /// the writer carries on with the first itself; any others need writers of their own.
    /// `drained` are the waiters of ``close(waiter:)`` to resume: closed, and nothing left.
    mutating func finished(writer: Int) -> (batches: [Batch], drained: [DrainWaiter]) {
        precondition(!idleWriters.contains(writer), "writer \(writer) finished a batch it did not have")
        // Taken again first: the writer carries on under its own slot.
        idleWriters.append(writer)
        var batches: [Batch] = []
        while let batch = nextBatch() { batches.append(batch) }
        var drained: [DrainWaiter] = []
        if closed && committing == 0 {
            drained = drainWaiters
            drainWaiters.removeAll()
        }
        return (batches, drained)
    }

    enum CloseAction {
        /// Nothing queued or committing: the waiter may go on at once.
        case drained
        /// The waiter is resumed by the ``finished(writer:)`` that leaves nothing to commit;
        /// these batches need writers now (after a close, every idle writer helps to drain).
        case wait(start: [Batch])
    }

    /// Refuses new items from now on; what is queued is still committed.
    mutating func close(waiter: DrainWaiter) -> CloseAction {
        closed = true
        var batches: [Batch] = []
        while let batch = nextBatch() { batches.append(batch) }
        if committing == 0 { return .drained }
        drainWaiters.append(waiter)
        return .wait(start: batches)
    }

    /// The batch an idle writer should take now, if any.
    private mutating func nextBatch() -> Batch? {
        guard !queued.isEmpty, !idleWriters.isEmpty else { return nil }
        guard committing == 0 || queued.count >= maxBatch || closed else { return nil }
        let writer = idleWriters.removeLast()
        let count = min(queued.count, maxBatch)
        let items = Array(queued.prefix(count))
        queued.removeFirst(count)
        return Batch(writer: writer, items: items)
    }
}

extension GroupCommitQueue.Batch: Sendable where Item: Sendable {}
