/// What a ``GroupCommitWriter`` does when a batch fails, so that no request is left hanging and
/// one bad request does not fail the others.
///
/// In both policies a batch that fails because the store is unavailable (unreachable, going
/// away, the pool closed) or because no pooled connection came free in time fails as a whole, at
/// once: trying its requests again one by one cannot help and would make the last of them wait
/// a timeout per request before it, and everyone queued behind.
public enum GroupCommitFailurePolicy: Sendable {
    /// For idempotent requests (entries): a batch whose connection was lost under it, or that
    /// hit a transient error (serialization failure, deadlock, a server shutting down or
    /// starting), is committed again, up to `attempts` times in all — safe even after a COMMIT
    /// that went unanswered, because committing a request twice has the effect of once. A
    /// connection that could not be made fails the batch at once. Any other error splits the
    /// batch in halves, recursively, until the one bad request stands alone and gets its error;
    /// the other requests are committed.
    case retryThenHalve(attempts: Int)

    /// For requests that must not be applied twice (settlements, purchase confirmations): a
    /// batch that failed because the store was unavailable is committed once more, on a fresh
    /// connection, only if its COMMIT cannot have taken effect. Any other error commits each
    /// request alone, in its own transaction, once.
    case retryOnceThenEachAlone
}
