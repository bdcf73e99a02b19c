/// ``CurlHTTPClient``'s submissions as a plain value: the requests waiting for the driver to add
/// them to the multi handle, and whether the client is shutting down. Each operation changes it
/// and says what the caller must do, outside its lock. Generic over the submission, so the
/// logic is tested with plain tokens (no libcurl, no threads, no timing).
struct CurlSubmissions<Submission> {
    private(set) var queued: [Submission] = []
    private(set) var stopping = false

    enum SubmitAction: Equatable {
        /// The queue was empty: the driver may be asleep in epoll, so the caller wakes it.
        case wake
        /// The driver has already been woken for the requests before this one and takes it with them.
        case none
        /// Shutting down: the caller fails the request.
        case refuse
    }

    mutating func submit(_ submission: Submission) -> SubmitAction {
        if stopping { return .refuse }
        queued.append(submission)
        // One wake-up per batch of submissions is enough: the driver takes them all.
        return queued.count == 1 ? .wake : .none
    }

    enum TakeAction {
        /// Add these transfers, in this order (possibly none).
        case add([Submission])
        /// Shutting down: the driver aborts its running transfers and ends.
        case stop
    }

    /// The driver, once per turn of its loop, takes everything submitted since the last turn.
    mutating func takeAll() -> TakeAction {
        if stopping { return .stop }
        let taken = queued
        queued.removeAll(keepingCapacity: true)
        return .add(taken)
    }

    /// Refuses new submissions and tells the driver to stop: the queued ones, which it will not
    /// start, for the caller to fail.
    mutating func stop() -> [Submission] {
        stopping = true
        defer { queued.removeAll() }
        return queued
    }
}
