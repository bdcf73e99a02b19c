/// The ids of the jobs a worker holds: taken into its in-flight hash by a call that answered, and
/// not yet settled there (acknowledged, retried, buried or handed back).
///
/// A taking call (`fetch`, `adopt`) that fails or goes unanswered may still have moved jobs into
/// the hash; the worker then reads the whole hash again, and the ledger tells the jobs it is
/// already running from the ones it never heard of. A plain value, so it is tested without Redis.
struct InFlightLedger: Sendable {
    private(set) var held: Set<String> = []

    var count: Int { held.count }

    /// Records `jobs` as held; returns those that were not held yet, in order: only those are
    /// this call's to run. (A job already held is being run by this worker; it may come back from
    /// Redis again after a re-read, or as its rescued next attempt under the same id, which the
    /// running attempt's outcome then settles.)
    mutating func claim(_ jobs: [Job]) -> [Job] {
        jobs.filter { held.insert($0.id).inserted }
    }

    /// The jobs of `jobs` that are not held, without claiming them.
    func unknown(_ jobs: [Job]) -> [Job] {
        var seen: Set<String> = []
        return jobs.filter { !held.contains($0.id) && seen.insert($0.id).inserted }
    }

    /// The jobs' outcomes are recorded in Redis: they are no longer in the in-flight hash.
    mutating func settle(_ ids: some Sequence<String>) {
        for id in ids { held.remove(id) }
    }
}
