import Logging
import Postgres
import Storage

/// scheduled → open for drops whose time has come; open-runs then get their admission gate.
public struct DropOpener: MaintenanceService {
    public struct Outcome: MaintenanceOutcome, Equatable {
        public let opened: [DropLifecycleStore.Moved]
        public var counts: [(name: String, value: Int)] { [("opened", opened.count)] }
    }

    public let name = "drop_opener"
    public let interval: Duration
    let pool: PostgresPool
    let hooks: (any DropHooks)?
    let logger: Logger

    public init(pool: PostgresPool, hooks: (any DropHooks)?, interval: Duration, logger: Logger) {
        self.pool = pool
        self.hooks = hooks
        self.interval = interval
        self.logger = logger
    }

    public func runOnce(term: Int) async throws -> Outcome {
        let opened = try await pool.withConnection { try DropLifecycleStore.openDueDrops($0, term: term) }
        if !opened.isEmpty {
            logger.info("opened drops", metadata: ["drops": .string(opened.map { String($0.dropID) }.joined(separator: ","))])
            try await hooks?.opened(opened)
        }
        return Outcome(opened: opened)
    }
}
