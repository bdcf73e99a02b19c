/// ``PipeliningConnection``'s state as a plain value: the requests waiting for the next round
/// trip and whether a drain (the work item that sends them) is scheduled or running. Each
/// operation changes it and says what the caller must do, outside its lock. Generic over the
/// request, so the logic is tested with plain tokens (no connection, no threads, no timing).
///
/// Invariant: requests are queued only while a drain is scheduled, so exactly one drain at a
/// time takes them, in the order they came.
struct PipelineQueue<Request> {
    private(set) var queued: [Request] = []
    /// A drain is queued on the connection's thread or running there.
    private(set) var drainScheduled = false
    /// Shut down: no more requests are taken; the queued ones still run.
    private(set) var closed = false

    enum EnqueueAction: Equatable {
        /// No drain was scheduled: the caller starts one.
        case startDrain
        /// The drain scheduled or running takes this request with the next batch.
        case none
        /// Shut down: the caller fails the request.
        case refuse
    }

    mutating func enqueue(_ request: Request) -> EnqueueAction {
        if closed { return .refuse }
        queued.append(request)
        if drainScheduled { return .none }
        drainScheduled = true
        return .startDrain
    }

    enum TakeAction {
        /// Send these in one round trip, in this order.
        case roundTrip([Request])
        /// Nothing queued; the drain stays scheduled, so the caller may yield and ask again.
        case empty
        /// Nothing queued and the drain ended: the next request starts a new one.
        case idle
    }

    /// The drain asks for its next batch: everything queued. With `mayGoIdle` false an empty
    /// queue keeps the drain scheduled (it is about to check again).
    mutating func takeBatch(mayGoIdle: Bool = true) -> TakeAction {
        if !queued.isEmpty {
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            return .roundTrip(batch)
        }
        if !mayGoIdle { return .empty }
        drainScheduled = false
        return .idle
    }

    /// The drain's connection broke: a drain with a fresh connection must take over if
    /// anything is queued (`true`: the caller starts it); otherwise the drain ends.
    mutating func connectionBroke() -> Bool {
        if queued.isEmpty {
            drainScheduled = false
            return false
        }
        return true
    }

    /// The drain ends without sending what is queued (no connection could be made, or the
    /// thread refused a new drain because it is shutting down): the requests to fail. The
    /// next request starts a new drain.
    mutating func abandon() -> [Request] {
        drainScheduled = false
        defer { queued.removeAll() }
        return queued
    }

    /// Takes no more requests. Those queued still run: the scheduled drain sends them.
    mutating func close() {
        closed = true
    }
}
