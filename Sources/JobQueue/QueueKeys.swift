/// The Redis keys of one deployment's queues, all under one prefix.
///
/// Each queue's keys carry the queue's name as their hash tag (`prefix{name}:…`): its list,
/// delayed and dead sets, unique keys, per-minute counters, and every worker's in-flight hash,
/// landing list and deadlines for that queue. A queue's scripts move a job between these in one
/// step (and compute some of them inside Lua), so on a Redis Cluster they must share a slot;
/// different queues, though, land on different slots and so spread over the shards. The few
/// keys about workers and the set of queue names share the tag `{jobs}`; no script touches them
/// together with a queue's keys.
///
/// (A prefix that itself holds a hash tag, as the benchmarks' do, puts everything in that one
/// slot: Redis hashes the first tag of a key.)
struct QueueKeys: Sendable {
    let prefix: String

    /// The keys of one queue.
    struct Queue: Sendable {
        let name: String
        /// `prefix{name}:`, the start of every key of the queue.
        let stem: String

        /// The list of jobs waiting, oldest first.
        var list: String { stem + "q" }
        /// Jobs `worker` has taken from this queue and not yet acknowledged: hash id → envelope.
        func inFlight(_ worker: String) -> String { stem + "inflight:" + worker }
        /// The landing list of `worker`'s blocking fetch (`BLMOVE`) from this queue, adopted
        /// into `inFlight` at once.
        func landing(_ worker: String) -> String { stem + "wip:" + worker }
        /// `worker|id` → the in-flight deadline (Unix ms) of a job in that worker's in-flight hash.
        var deadlines: String { stem + "inflight-deadlines" }
        /// Envelope → due time (Unix ms): retries and scheduled jobs.
        var delayed: String { stem + "delayed" }
        /// Dead job id → time of death; envelopes and last errors in the two hashes below.
        var dead: String { stem + "dead" }
        var deadJobs: String { stem + "dead:jobs" }
        var deadErrors: String { stem + "dead:errors" }
        /// Unique key → id of the job holding it while it waits or runs.
        var unique: String { stem + "unique" }
        /// Elements that are not job envelopes, set aside instead of being dropped.
        var malformed: String { stem + "malformed" }
        /// Per-minute counters of finished jobs (`processed`) or failed attempts (`failed`):
        /// the scripts append the minute (Unix ms / 60 000) to this stem.
        func stats(_ what: String) -> String { stem + "stats:" + what + ":" + name + ":" }
    }

    func of(_ queue: String) -> Queue { Queue(name: queue, stem: prefix + "{" + queue + "}:") }

    /// Worker → last heartbeat (Unix ms).
    var workers: String { prefix + "{jobs}:workers" }
    /// Worker → `host|started` (Unix ms), written when the worker registers.
    var workerInfo: String { prefix + "{jobs}:workers:info" }
    /// Every queue name ever used: where maintenance, statistics and listings find the queues.
    var queues: String { prefix + "{jobs}:queues" }
}
