import Foundation
import Redis

/// The open-run admission gate: one atomic Redis script per purchase decides, in arrival order,
/// whether a buyer may go on to PostgreSQL — one purchase per customer per drop, and only while
/// units remain. Refusals (`sold-out`, `already-purchased`, `not-open`) never touch PostgreSQL.
///
/// The gate is derived state: PostgreSQL stays the authority (confirmation re-checks stock under
/// `FOR UPDATE`), and the gate can always be rebuilt from it (``reconcile(_:)``), so losing Redis's
/// data neither loses a unit nor sells one twice.
///
/// Per drop, a hash `{prefix}gate:{drop:ID}` holds `open` ("1"/"0"), `remaining` (units the gate
/// may still hand out) and `phase` (``Phase``), a set `{prefix}gate:{drop:ID}:buyers` every customer
/// admitted, a sorted set `{prefix}gate:{drop:ID}:pending` the buyers admitted whose confirmation
/// has not finished, and a hash `{prefix}gate:{drop:ID}:owners` naming, for each pending buyer, the
/// request that admitted them (so a request that lost its answer can undo its own admission).
/// While no confirmation runs, `remaining + |pending|` equals the drop's `available` in
/// PostgreSQL.
///
/// Drops that sell nothing through a gate are remembered too, so that their refusals stay off
/// PostgreSQL as well: a draw or raffle gets a hash with `open` "0" (refused `not-open`), an id
/// that names no drop one with `open` "none" (refused `not-found`); both expire, and a real
/// gate replaces them.
public struct AdmissionGate: Sendable {
    public enum Decision: String, Sendable, Equatable {
        case admitted
        case soldOut = "sold-out"
        case alreadyPurchased = "already-purchased"
        case notOpen = "not-open"
        /// No drop has this id.
        case notFound = "not-found"
        /// Redis took longer to decide than the caller waits (see ``admit(dropID:userID:)``):
        /// nothing was decided; the buyer may retry.
        case late
        /// No gate for this drop in Redis (never loaded, or Redis lost it): load it and ask again.
        case missing
    }

    /// How far an open-run has come. Phases only advance, and a gate never goes back to an
    /// earlier one: a rebuild that read PostgreSQL just before the scheduler opened the drop
    /// must not close the gate the scheduler has just opened.
    public enum Phase: Int, Sendable, Equatable {
        case scheduled = 0
        case open = 1
        case closed = 2
    }

    /// What PostgreSQL says about an open-run, to build its gate from.
    public struct Snapshot: Sendable, Equatable {
        public let dropID: Int
        public let phase: Phase
        /// Open for purchases now: in the open phase and inside the drop's window.
        public let isOpen: Bool
        public let available: Int
        /// Every customer who holds or held an order for the drop.
        public let buyers: [Int]

        public init(dropID: Int, phase: Phase, isOpen: Bool, available: Int, buyers: [Int]) {
            self.dropID = dropID
            self.phase = phase
            self.isOpen = isOpen && phase == .open
            self.available = available
            self.buyers = buyers
        }
    }

    let redis: RedisClient
    let prefix: String
    let clock: RedisServerClock

    public init(redis: RedisClient, keyPrefix: String) {
        self.redis = redis
        self.prefix = keyPrefix + "gate:"
        self.clock = RedisServerClock(redis: redis)
    }

    /// Admissions older than this (by Redis's clock) are no longer counted as pending by
    /// ``reconcile(_:)``: the request that made them has long timed out.
    public static let pendingHorizonMilliseconds = 60_000

    /// Every key of one drop's gate carries the hash tag `{drop:ID}`: the scripts touch them
    /// together, so on a Redis Cluster they must share a slot (one shard per drop's gate).
    func gateKey(_ dropID: Int) -> String { prefix + "{drop:" + String(dropID) + "}" }
    func buyersKey(_ dropID: Int) -> String { gateKey(dropID) + ":buyers" }
    func pendingKey(_ dropID: Int) -> String { gateKey(dropID) + ":pending" }
    func ownersKey(_ dropID: Int) -> String { gateKey(dropID) + ":owners" }
    func keys(_ dropID: Int) -> [String] { [gateKey(dropID), buyersKey(dropID), pendingKey(dropID), ownersKey(dropID)] }
    static func nowMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

    /// Decides one purchase. A decision Redis would reach only after the client stopped waiting
    /// for it (a Redis that hung with the command in its socket) is not made at all: `late`.
    ///
    /// If the answer does not come (a timeout, a broken connection), the script may still have
    /// admitted the buyer, and nobody would confirm or compensate that admission: the customer,
    /// told to retry, would be refused `already-purchased` until reconcile's pending horizon
    /// freed the unit. So the request names its admission with a token of its own and, having
    /// given up, asks Redis to undo that admission if it was made (in the background: the
    /// buyer's 503 does not wait for a Redis that may be hung). The undo is sent only once the
    /// deadline has passed by Redis's clock (``abandonOnceLate``): an admit still in flight then
    /// can only run `late` and change nothing, whatever order the two reach Redis in; and no
    /// other request holds the token.
    public func admit(dropID: Int, userID: Int) async throws -> Decision {
        // The script judges the deadline by Redis's clock, which need not agree with this host's.
        let deadline = try await clock.now() + redis.configuration.commandTimeoutMilliseconds
        // (A number, sent like the user id: every purchase pays for it, refusals included.)
        let token = Int.random(in: 1 ... .max)
        let reply: RedisReply
        do {
            reply = try await redis.run(GateScripts.admit, keys: keys(dropID), arguments: [userID, deadline, token])
        } catch let error as RedisError where error.code == .timeout || error.code == .connectionFailure {
            // The command may have run with only its answer lost. (Other errors mean it was
            // never sent, or Redis answered.)
            Task { await abandonOnceLate(dropID: dropID, userID: userID, token: token, deadline: deadline) }
            throw error
        }
        guard let text = try reply.throwingError().string, let decision = Decision(rawValue: text) else {
            throw RedisError(code: .unexpectedReply, message: "the admission script answered \(reply)")
        }
        return decision
    }

    /// Margin past the deadline before an undo is sent: Redis's clock may be stepped back a
    /// little, or this host's monotonic clock run a little fast, since the last reading.
    static let abandonMarginMilliseconds = 250

    /// Waits until Redis's clock is past `deadline` (plus a margin), then undoes the admission of
    /// the request holding `token`, if it made one. Tries a few times over some seconds (a Redis
    /// that is still hung, or loading after a restart); reconcile's pending horizon remains the
    /// last resort.
    func abandonOnceLate(dropID: Int, userID: Int, token: Int, deadline: Int) async {
        var pause = Duration.milliseconds(250)
        for _ in 0..<6 {
            do {
                // (The estimate moves on the monotonic clock, so after this sleep it is past.)
                let wait = deadline + Self.abandonMarginMilliseconds - (try await clock.now())
                if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }
                try await abandon(dropID: dropID, userID: userID, token: token)
                return
            } catch {
                try? await Task.sleep(for: pause)
                pause *= 2
            }
        }
    }

    /// Undoes the admission made by the request holding `token`, if it made one; returns whether
    /// it had.
    @discardableResult
    func abandon(dropID: Int, userID: Int, token: Int) async throws -> Bool {
        try await redis.run(GateScripts.abandon, keys: keys(dropID), arguments: [userID, token]).requireInt() == 1
    }

    /// The buyer's order was committed: the admission is final.
    public func confirmed(dropID: Int, userID: Int) async throws {
        try await redis.run(
            GateScripts.confirmed, keys: [pendingKey(dropID), ownersKey(dropID)], arguments: [userID]
        ).throwingError()
    }

    /// The buyer was admitted but PostgreSQL refused or failed: give the unit back, and unless
    /// the customer really holds an order already, let them try again.
    public func compensate(dropID: Int, userID: Int, keepBuyer: Bool) async throws {
        try await redis.run(
            GateScripts.compensate, keys: keys(dropID), arguments: [userID, keepBuyer ? 1 : 0]
        ).throwingError()
    }

    /// Units released in PostgreSQL (a failed or expired payment) go back on sale.
    public func returnUnits(dropID: Int, count: Int) async throws {
        try await redis.run(GateScripts.returnUnits, keys: [gateKey(dropID)], arguments: [count]).throwingError()
    }

    /// Builds the gate from PostgreSQL's figures when Redis has none (the drop opened, or Redis
    /// lost it), and repairs drift (a unit whose return to the gate failed): `remaining` becomes
    /// `available − pending`. Admissions already made stay counted. A snapshot of an earlier
    /// phase than the gate's is stale and changes nothing. Returns whether anything changed.
    @discardableResult
    public func reconcile(_ snapshot: Snapshot) async throws -> Bool {
        var arguments: [any RedisArgument] = [
            snapshot.isOpen ? "1" : "0", snapshot.available, Self.pendingHorizonMilliseconds, snapshot.phase.rawValue,
        ]
        for buyer in snapshot.buyers { arguments.append(buyer) }
        return try await redis.run(GateScripts.reconcile, keys: keys(snapshot.dropID), arguments: arguments).requireInt() == 1
    }

    /// Stops admissions (the drop closed).
    public func close(dropID: Int) async throws {
        try await redis.execute("HSET", gateKey(dropID), "open", "0", "phase", Phase.closed.rawValue)
    }

    /// Remembers for `seconds` that the drop sells nothing through a gate (a draw or raffle):
    /// its purchases are refused `not-open` without asking PostgreSQL. A gate already there stays.
    public func rememberNotForSale(dropID: Int, seconds: Int) async throws {
        try await redis.run(GateScripts.remember, keys: [gateKey(dropID)], arguments: ["0", seconds]).throwingError()
    }

    /// Remembers for `seconds` that no drop has this id: its purchases are refused `not-found`
    /// without asking PostgreSQL. A drop created with the id ends this (``forgetUnknown(dropID:)``).
    public func rememberUnknown(dropID: Int, seconds: Int) async throws {
        try await redis.run(GateScripts.remember, keys: [gateKey(dropID)], arguments: ["none", seconds]).throwingError()
    }

    /// The drop now exists: forget that its id was unknown.
    public func forgetUnknown(dropID: Int) async throws {
        try await redis.run(GateScripts.forgetUnknown, keys: [gateKey(dropID)], arguments: []).throwingError()
    }

    /// Whether Redis holds a gate for the drop (or remembers a refusal for it).
    public func exists(dropID: Int) async throws -> Bool {
        try await redis.send(RedisCommand("EXISTS", gateKey(dropID))).requireInt() == 1
    }

    /// The gate's figures, for tests and diagnostics: (open, remaining, pending), nil when missing.
    public func state(dropID: Int) async throws -> (isOpen: Bool, remaining: Int, pending: Int)? {
        let replies = try await redis.pipeline([
            RedisCommand("HMGET", gateKey(dropID), "open", "remaining"), RedisCommand("ZCARD", pendingKey(dropID)),
        ])
        let fields = try replies[0].requireArray()
        guard fields.count == 2, let open = fields[0].string, open != "none" else { return nil }
        return (open == "1", fields[1].int ?? 0, try replies[1].requireInt())
    }
}
