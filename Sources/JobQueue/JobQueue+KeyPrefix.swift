extension JobQueue {
    /// The job queue's key prefix inside a deployment's Redis key prefix.
    ///
    /// `{jobs}` is the hash tag of every queue key: the queue's scripts move a job between a
    /// queue, a worker's in-flight hash, the delayed and dead sets and the unique keys in one
    /// step, and compute some of those keys from queue and worker names inside Lua, so on a
    /// Redis Cluster all of them must live in one slot. (docs/scaling.md says what that costs and
    /// what per-queue tags would take.)
    public static func keyPrefix(deployment: String) -> String { deployment + "{jobs}:" }
}
