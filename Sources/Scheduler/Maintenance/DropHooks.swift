import Storage

/// Work the scheduler hands to other parts of the system when a drop changes status.
public protocol DropHooks: Sendable {
    /// Drops just opened (open-runs load their admission gate here).
    func opened(_ drops: [DropLifecycleStore.Moved]) async throws
    /// Open-runs just closed.
    func closed(_ drops: [DropLifecycleStore.Moved]) async throws
    /// Periodic repair of derived state (open-run gates from PostgreSQL); returns how many
    /// drops it checked.
    @discardableResult
    func reconcile() async throws -> Int
}
