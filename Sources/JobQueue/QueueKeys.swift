/// The Redis keys of one deployment's queues, all under one prefix.
struct QueueKeys: Sendable {
    let prefix: String

    /// The list of jobs waiting in `queue`, oldest first.
    func queue(_ name: String) -> String { prefix + "q:" + name }
    /// Jobs a worker has taken and not yet acknowledged: hash id → envelope.
    func inFlight(_ worker: String) -> String { prefix + "inflight:" + worker }
    /// The landing list of a worker's blocking fetch (`BLMOVE`), adopted into `inFlight` at once.
    func landing(_ worker: String) -> String { prefix + "wip:" + worker }
    /// `worker|id` → the in-flight deadline (Unix ms) of a job in that worker's in-flight hash.
    var deadlines: String { prefix + "inflight-deadlines" }
    /// Worker → last heartbeat (Unix ms).
    var workers: String { prefix + "workers" }
    /// Worker → `host|started` (Unix ms), written when the worker registers.
    var workerInfo: String { prefix + "workers:info" }
    /// Per-minute counters of one queue's finished jobs (`processed`) or failed attempts
    /// (`failed`): the scripts append the minute (Unix ms / 60 000) to this stem.
    func stats(_ what: String, queue: String) -> String { prefix + "stats:" + what + ":" + queue + ":" }
    /// Envelope → due time (Unix ms): retries and scheduled jobs.
    var delayed: String { prefix + "delayed" }
    /// Dead job id → time of death; envelopes and last errors in the two hashes below.
    var dead: String { prefix + "dead" }
    var deadJobs: String { prefix + "dead:jobs" }
    var deadErrors: String { prefix + "dead:errors" }
    /// Unique key → id of the job holding it while it waits or runs.
    var unique: String { prefix + "unique" }
    /// Every queue name ever used (for stats).
    var queues: String { prefix + "queues" }
    /// Elements that are not job envelopes, set aside instead of being dropped.
    var malformed: String { prefix + "malformed" }
}
