import DequeModule

/// Who gets which pooled connection: the free slots, the callers waiting in arrival order, and
/// whether the pool is closed. A plain value: ``PostgresPool`` keeps it under a lock and performs
/// what it answers (resume a waiter, fail one) outside the lock.
///
/// A caller that may have to wait takes a ticket first, so that its timer can refer to its wait
/// even before the wait is queued: a timer that fires first marks the ticket, and the checkout
/// that follows answers ``Checkout/timedOut`` instead of queueing.
struct PostgresPoolState<Waiter> {
    enum Checkout {
        case use(slot: Int)
        /// Queued: the waiter is handed a slot by a later ``checkin(_:)``.
        case wait
        case closed
        case timedOut
    }

    private(set) var free: [Int]
    private var waiting: Deque<(ticket: Int, waiter: Waiter)> = []
    /// Tickets issued whose checkout has not happened yet.
    private var issued: Set<Int> = []
    /// Issued tickets whose timer fired before their checkout.
    private var expiredEarly: Set<Int> = []
    private var nextTicket = 0
    private(set) var isClosed = false

    init(size: Int) {
        // Slot 0 is handed out first.
        free = Array((0..<size).reversed())
    }

    var waitingCount: Int { waiting.count }

    /// A free slot at once, or nil when the caller must wait (take a ticket and check out).
    mutating func checkoutIfFree() -> Checkout? {
        if isClosed { return .closed }
        return free.popLast().map { .use(slot: $0) }
    }

    /// A ticket for one caller's wait.
    mutating func ticket() -> Int {
        defer { nextTicket += 1 }
        issued.insert(nextTicket)
        return nextTicket
    }

    /// A free slot, or `waiter` queued under `ticket`.
    mutating func checkout(ticket: Int, waiter: Waiter) -> Checkout {
        issued.remove(ticket)
        if expiredEarly.remove(ticket) != nil { return .timedOut }
        if isClosed { return .closed }
        if let slot = free.popLast() { return .use(slot: slot) }
        waiting.append((ticket, waiter))
        return .wait
    }

    /// The ticket's wait timed out: its waiter, if it was queued (the caller fails it). A ticket
    /// not yet checked out is remembered; one already served is ignored.
    mutating func expire(ticket: Int) -> Waiter? {
        if let position = waiting.firstIndex(where: { $0.ticket == ticket }) {
            return waiting.remove(at: position).waiter
        }
        if issued.remove(ticket) != nil { expiredEarly.insert(ticket) }
        return nil
    }

    /// A slot came back: the first waiter gets it (the caller resumes it), or it is free again.
    mutating func checkin(_ slot: Int) -> (waiter: Waiter, slot: Int)? {
        if let first = waiting.popFirst() { return (first.waiter, slot) }
        free.append(slot)
        return nil
    }

    /// Closes the pool: every waiter is returned to be failed; later checkouts answer `.closed`.
    mutating func close() -> [Waiter] {
        isClosed = true
        defer { waiting.removeAll() }
        return waiting.map(\.waiter)
    }
}
