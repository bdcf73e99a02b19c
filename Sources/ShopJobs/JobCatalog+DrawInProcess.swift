import JobQueue

extension JobCatalog {
    /// The close job and the charges it enqueues, each tried once with a long timeout: for a
    /// close run inside one process (`bench draw`, tests drawing at scale) rather than by the
    /// worker fleet under `jobs/`.
    public static let drawInProcess = JobCatalog([
        JobDefinition(
            kind: ShopJob.closeDropKind, queue: "drops", timeoutSeconds: 600, maxAttempts: 1,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
        JobDefinition(
            kind: ShopJob.chargeOrderKind, queue: "payments", timeoutSeconds: 30, maxAttempts: 1,
            backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
    ])
}
