/// One C handle (a PostgreSQL or Redis connection, a curl multi handle) and the one thread that
/// may touch it.
///
/// libpq, hiredis and libcurl handles are not thread-safe, and their calls block; so each handle
/// lives on a ``DedicatedThread`` of its own and async callers hop there with ``run(_:)``. The
/// handle is opened on that thread the first time it is needed, and — when the reconnect policy
/// allows — opened again after it broke, so a server restart costs the call that was running, not
/// the ones after it. Every type that owns such a handle (the PostgreSQL pool's slots, the Redis
/// pipelining and blocking connections, the scheduler's leader lock, the curl driver) is built on
/// this one, so there is one way a handle is opened, replaced and closed.
public final class ThreadConfined<Handle>: @unchecked Sendable {
    public let name: String
    private let thread: DedicatedThread
    private let open: @Sendable () throws -> Handle
    private let isBroken: @Sendable (Handle) -> Bool
    private let slot: Slot

    /// The handle's storage. Only touched on `thread`; a box of its own so that the thread's exit
    /// can close the handle (the box exists before the thread does).
    private final class Slot: @unchecked Sendable {
        var handle: Handle?
    }

    private var handle: Handle? {
        get { slot.handle }
        set { slot.handle = newValue }
    }

    /// The reconnect policy is the pair of closures: a handle that `isBroken` is dropped, and the
    /// next ``run(_:)`` calls `open` again. A handle whose session holds something a fresh one
    /// would not (the leader lock's advisory lock) is asked about with ``runIfOpen(_:)``, which
    /// never opens one.
    ///
    /// - Parameters:
    ///   - open: opens the handle; runs on the handle's thread.
    ///   - isBroken: whether a handle can no longer be used (checked before each use and after a
    ///     failed one); runs on the handle's thread.
    public init(
        name: String,
        open: @escaping @Sendable () throws -> Handle,
        isBroken: @escaping @Sendable (Handle) -> Bool = { _ in false }
    ) {
        self.name = name
        self.open = open
        self.isBroken = isBroken
        let slot = Slot()
        self.slot = slot
        // Closed as the thread ends, after every queued item: work queued just before shutdown
        // may have opened a handle again.
        self.thread = DedicatedThread(name: name, onExit: { slot.handle = nil })
    }

    /// Runs `body` with the handle on the handle's thread, opening the handle first if there is
    /// none or it broke. A handle that `body` left broken is dropped, so the next call starts
    /// afresh.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Handle) throws -> T) async throws -> T {
        try await thread.run { try self.withOpenHandle(body) }
    }

    /// Runs `body` with the handle as it is — nil if there is none or it broke — without opening
    /// one: for questions about the current session ("do I still hold the lock?").
    public func runIfOpen<T: Sendable>(_ body: @escaping @Sendable (Handle?) throws -> T) async throws -> T {
        try await thread.run {
            if let handle = self.handle, self.isBroken(handle) { self.handle = nil }
            return try body(self.handle)
        }
    }

    /// Queues `body` on the handle's thread without waiting for it: for a driver loop that runs
    /// there until told to stop (the curl client's), or a round trip whose callers are resumed by
    /// the body itself (the Redis pipeline's). `failed` is called instead of `body` when no handle
    /// could be opened. Returns false when the thread is shutting down and will not run it.
    @discardableResult
    public func start(
        _ body: @escaping @Sendable (Handle) -> Void, ifNoHandle failed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) -> Bool {
        thread.submit {
            let handle: Handle
            do {
                handle = try self.current()
            } catch {
                failed(error)
                return
            }
            body(handle)
            if self.isBroken(handle) { self.handle = nil }
        }
    }

    /// Closes the handle now; the next ``run(_:)`` opens a new one.
    public func close() async {
        _ = try? await thread.run { self.handle = nil }
    }

    /// Runs what is queued, closes the handle on its thread, and ends the thread.
    public func shutdown() {
        thread.shutdown()
    }

    // MARK: on the handle's thread

    private func withOpenHandle<T>(_ body: (Handle) throws -> T) throws -> T {
        let handle = try current()
        do {
            return try body(handle)
        } catch {
            if isBroken(handle) { self.handle = nil }
            throw error
        }
    }

    private func current() throws -> Handle {
        if let handle, !isBroken(handle) { return handle }
        handle = nil
        let opened = try open()
        handle = opened
        return opened
    }
}
