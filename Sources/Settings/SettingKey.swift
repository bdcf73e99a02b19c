import Foundation

/// One configuration key: its dotted name, type, default and meaning.
///
/// ``SettingKey/all`` is the single list of keys. `config/fastest-shop.json` and
/// `config/README.md` document the same keys with the same defaults (a unit test checks it).
public struct SettingKey: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case string, int, bool, double

        /// What a value of this kind is, for error messages ("must be …").
        var valueDescription: String {
            switch self {
            case .string: "text (a JSON string)"
            case .int: "an integer"
            case .bool: "true or false"
            case .double: "a number"
            }
        }
    }

    public let name: String
    public let kind: Kind
    /// The default as JSON text (`"…"` for strings); nil when the key has no default.
    public let defaultJSON: String?
    public let meaning: String
    public let isSecret: Bool

    init(_ name: String, _ kind: Kind, _ defaultJSON: String?, secret: Bool = false, _ meaning: String) {
        self.name = name
        self.kind = kind
        self.defaultJSON = defaultJSON
        self.meaning = meaning
        self.isSecret = secret
    }

    /// The environment variable that overrides this key: `FASTEST_SHOP_` + the name in upper
    /// snake case (`postgres.pool_size` → `FASTEST_SHOP_POSTGRES_POOL_SIZE`).
    public var environmentVariable: String {
        "FASTEST_SHOP_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension SettingKey {
    public static let all: [SettingKey] = [
        .init("postgres.host", .string, "\"127.0.0.1\"", "PostgreSQL host."),
        .init("postgres.port", .int, "5432", "PostgreSQL port."),
        .init("postgres.database", .string, "\"fastest_shop\"", "Database name."),
        .init("postgres.user", .string, "\"fastest\"", "Database user."),
        .init(
            "postgres.password", .string, "\"\"", secret: true,
            "Database password; empty for none. Environment or the file its `_FILE` variable names only."),
        .init(
            "postgres.pool_size", .int, "10",
            "Connections per process for request and job work (each owned by its own thread). serve's entry writers borrow theirs from it too, so it must exceed `entries.writers` (the default: 8 for requests + 2 writers)."
        ),
        .init(
            "postgres.public_pool_size", .int, "2",
            "Connections of serve's separate pool for public reads (audit bundles, products, drops, drop listings), so a burst of them can never take the connections entries and purchases need."
        ),
        .init(
            "postgres.acquire_timeout_ms", .int, "2000",
            "Milliseconds a serve request waits for a free pooled connection before it gets 503 with Retry-After (never an endless queue)."),
        .init("postgres.connect_timeout_s", .int, "2", "Seconds to wait for a new connection."),
        .init("postgres.statement_timeout_ms", .int, "30000", "Server-side limit on any one statement, in milliseconds."),
        .init(
            "postgres.hosts", .string, "\"\"",
            "A primary and its standbys as comma-separated `host:port` (libpq multi-host): every connection goes to whichever is primary now (`postgres.target_session_attrs`). Empty uses `postgres.host`:`postgres.port`."
        ),
        .init(
            "postgres.target_session_attrs", .string, "\"read-write\"",
            "With `postgres.hosts`: which server a connection accepts (libpq's `target_session_attrs`): `read-write` finds the primary after a promotion."
        ),
        .init(
            "postgres.reply_timeout_ms", .int, "1000",
            "Milliseconds `serve` waits for PostgreSQL to answer a statement before the request gets 503 and the connection is replaced (a hung server answers nothing, not even to the statement timeout); 0 waits as long as it takes."
        ),
        .init("redis.host", .string, "\"127.0.0.1\"", "Redis host."),
        .init("redis.port", .int, "6379", "Redis port."),
        .init(
            "redis.password", .string, "\"\"", secret: true,
            "Redis password; empty for none. Environment or the file its `_FILE` variable names only."),
        .init("redis.connections", .int, "2", "Pipelining connections per process (each owned by its own thread)."),
        .init("redis.command_timeout_ms", .int, "1000", "Milliseconds to wait for a Redis reply before the connection is declared dead."),
        .init(
            "redis.key_prefix", .string, "\"fs:\"",
            "Prefix of every Redis key this deployment uses (no `{` or `}`: hash tags are the client's to place)."),
        .init(
            "redis.mode", .string, "\"single\"",
            "`single`: one Redis at `redis.host`:`redis.port`. `cluster`: a Redis Cluster, learnt from `redis.cluster_nodes`; commands are routed by hash slot."
        ),
        .init(
            "redis.cluster_nodes", .string, "\"\"",
            "Cluster mode: comma-separated `host:port` of nodes to learn the slot map from (any few); empty uses `redis.host`:`redis.port`."),
        .init(
            "redis.cluster_retry_ms", .int, "5000",
            "Cluster mode: milliseconds a command is retried, the slot map re-read in between, while its node cannot be reached or its slot has no master (a failover in progress)."
        ),
        .init("http.host", .string, "\"127.0.0.1\"", "Address the intake API listens on."),
        .init("http.port", .int, "8080", "Port the intake API listens on (0 picks a free port)."),
        .init("http.max_body_bytes", .int, "65536", "Largest request body accepted; larger bodies get 413."),
        .init(
            "http.idle_timeout_s", .int, "15",
            "Seconds a connection may stay without a complete request part (idle between requests, or sending its headers too slowly) before serve closes it."
        ),
        .init(
            "http.header_timeout_s", .int, "10",
            "Seconds a request's head (request line and headers) may take from its first byte before serve closes the connection (slowloris clients), however long http.idle_timeout_s."
        ),
        .init(
            "http.max_connections_per_address", .int, "1024",
            "Connections one client address (IPv6: its /64) may hold open at once per serve process; more are closed at once."),
        .init(
            "http.cors_origins", .string, "\"\"",
            "Comma-separated origins (`https://shop.example`) whose browser front ends may call the API across origins (CORS); empty for none."),
        .init("console.session_ttl_s", .int, "28800", "Seconds an operator console session lasts after sign-in (kept in Redis)."),
        .init(
            "auth.jwt_secret", .string, "\"\"", secret: true,
            "HS256 key for access tokens, at least 32 bytes. Required by serve. Environment or the file its `_FILE` variable names."),
        .init(
            "auth.token_ttl_s", .int, "3600", "Lifetime of an access token in seconds (at most one day); tokens claiming a longer life are refused."),
        .init(
            "auth.token_recheck_s", .int, "60",
            "Seconds a verified token is trusted before its account is checked again (a disabled, demoted or deleted account loses access within this time)."
        ),
        .init("auth.bcrypt_cost", .int, "10", "bcrypt cost factor for stored passwords (4...31)."),
        .init(
            "auth.bcrypt_max_pending", .int, "64",
            "Logins and signups a serve process hashes or queues for bcrypt at once; beyond it they get 503 with Retry-After at once, so a flood neither grows memory nor makes real logins wait minutes."
        ),
        .init("payments.url", .string, "\"http://127.0.0.1:8090/v1/charges\"", "Payment provider endpoint that receives charge.requested webhooks."),
        .init(
            "payments.secret", .string, "\"\"", secret: true, "Key that signs our outbound charge webhooks (Standard Webhooks). Required by worker."),
        .init(
            "payments.callback_secret", .string, "\"\"", secret: true,
            "The provider's key for inbound callbacks to /v1/payments/callback. Required by serve."),
        .init("payments.timeout_ms", .int, "5000", "Milliseconds for one charge request, connection included."),
        .init("payments.connect_timeout_ms", .int, "1000", "Milliseconds to connect to the payment provider."),
        .init("payments.window_s", .int, "900", "Seconds a pending payment may take before the order expires and its unit is released."),
        .init(
            "payments.callback_grace_s", .int, "60",
            "Extra seconds an order whose charge the provider answered pending waits for its callback after the payment window, before it expires (a success after that is refunded)."
        ),
        .init(
            "limits.customer_per_s", .double, "20",
            "Sustained requests per second allowed per customer on customer routes, one bucket shared by all serve instances through Redis (each instance falls back to its own bucket while Redis is down)."
        ),
        .init("limits.customer_burst", .int, "40", "Burst allowance per customer."),
        .init(
            "limits.ip_per_s", .double, "2000",
            "Sustained requests per second allowed per client address (IPv6: per /64), one bucket shared by all serve instances through Redis (each instance falls back to its own bucket while Redis is down)."
        ),
        .init("limits.ip_burst", .int, "4000", "Burst allowance per client address."),
        .init(
            "limits.callback_per_s", .double, "200",
            "Sustained payment callbacks per second allowed per client address on /v1/payments/callback (its own limit: the provider sends bursts from one address)."
        ),
        .init("limits.callback_burst", .int, "2000", "Burst allowance of payment callbacks per client address."),
        .init(
            "limits.auth_ip_per_min", .int, "300",
            "Logins and signups allowed per client address per minute, counted in Redis across all serve instances (each instance falls back to its own count while Redis is down)."
        ),
        .init(
            "limits.auth_email_per_min", .int, "10",
            "Logins and signups allowed per email address per minute, whichever addresses they come from (counted like limits.auth_ip_per_min); past it the account is locked out for the rest of the minute."
        ),
        .init(
            "limits.auth_lockout_after", .int, "5",
            "Failed logins an email may have (known account or not, remembered until limits.auth_lockout_max_s after the last one) before each further failure locks it out: limits.auth_lockout_first_s, doubling with every failure, at most limits.auth_lockout_max_s; a locked-out login gets 429 with Retry-After before any bcrypt work, and a successful login forgets the failures. Kept in Redis."
        ),
        .init(
            "limits.auth_lockout_first_s", .int, "1",
            "Seconds of the first lockout after limits.auth_lockout_after failed logins; each further failure doubles it."),
        .init(
            "limits.auth_lockout_max_s", .int, "900",
            "Longest lockout after failed logins, and how long failures are remembered after the last one, in seconds."),
        .init(
            "cache.local_entries", .int, "10000",
            "Product and drop documents each serve keeps in its own memory in front of Redis (the refresh storm of a drop page); 0 turns the local cache off."
        ),
        .init(
            "cache.local_ttl_ms", .int, "1000",
            "Milliseconds a locally cached product or drop document is served at most. Writes drop copies at once on every serve through Redis pub/sub; while that subscription is down the local cache is bypassed. Counters that change without a published write (stock, entries) are at most this old."
        ),
        .init("entries.max_batch", .int, "2000", "Most entry requests committed together in one group-commit batch."),
        .init(
            "entries.writers", .int, "2",
            "Entry group-commit batches committing at once in serve, each on a connection borrowed from `postgres.pool_size` (must be less than it)."
        ),
        .init("worker.concurrency", .int, "64", "Jobs a worker process runs at once."),
        .init("worker.queues", .string, "\"drops,payments\"", "Comma-separated queues a worker takes jobs from."),
        .init("worker.heartbeat_ms", .int, "1000", "Milliseconds between worker heartbeats."),
        .init("worker.shutdown_grace_s", .int, "10", "Seconds a stopping worker lets running jobs finish before handing them back."),
        .init("worker.metrics_port", .int, "0", "Port where a worker serves Prometheus metrics at /metrics (on http.host); 0 for none."),
        .init("scheduler.metrics_port", .int, "0", "Port where the scheduler serves Prometheus metrics at /metrics (on http.host); 0 for none."),
        .init(
            "scheduler.tick_ms", .int, "500",
            "Milliseconds between a standby scheduler's attempts to take over, and at most between the leader's checks that it still holds the leader lock."
        ),
        .init(
            "scheduler.promoter_interval_ms", .int, "500",
            "Milliseconds between the scheduler leader's runs of the promoter: delayed jobs (retries, order expiries) whose time has come go to their queues."
        ),
        .init(
            "scheduler.rescuer_interval_ms", .int, "500",
            "Milliseconds between the scheduler leader's runs of the rescuer: jobs of workers that stopped heartbeating go back to their queues, or to the dead jobs after their last attempt."
        ),
        .init(
            "scheduler.drop_opener_interval_ms", .int, "500",
            "Milliseconds between the scheduler leader's runs of the drop opener: scheduled drops whose opens_at has passed open (open-runs load their admission gate)."
        ),
        .init(
            "scheduler.drop_closer_interval_ms", .int, "500",
            "Milliseconds between the scheduler leader's runs of the drop closer: open drops whose closes_at has passed close, idle closed open-runs settle, closing draws get their close job."
        ),
        .init(
            "scheduler.order_reconciler_interval_ms", .int, "5000",
            "Milliseconds between the scheduler leader's runs of the order reconciler: pending orders, queued refunds and charges in doubt get their jobs again if Redis lost them."
        ),
        .init(
            "scheduler.gate_reconciler_interval_ms", .int, "5000",
            "Milliseconds between the scheduler leader's runs of the gate reconciler: open-run admission gates are rebuilt or corrected from PostgreSQL."
        ),
        .init(
            "metrics.sample_ms", .int, "5000",
            "Milliseconds between serve's samples of the state gauges on /metrics (orders by status, queue depths, dead jobs, live workers): one PostgreSQL query and two Redis round trips each."
        ),
        .init("jobs.catalog", .string, "\"jobs\"", "Directory of the job catalog (one JSON file per job kind)."),
        .init(
            "open_run.strategy", .string, "\"gate\"",
            "How open-run purchases are admitted: gate (Redis admission gate + batched FOR UPDATE) or classic (one FOR UPDATE transaction per request; a baseline for benchmarks)."
        ),
        .init("log.level", .string, "\"info\"", "Log level: trace, debug, info, notice, warning, error or critical."),
    ]

    public static func named(_ name: String) -> SettingKey? { all.first { $0.name == name } }
}
