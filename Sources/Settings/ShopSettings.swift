import Configuration
import Foundation
import SystemPackage

/// Every setting of every role, read once at start-up and validated.
///
/// Precedence, highest first: command-line flags, environment (`FASTEST_SHOP_*`), the JSON
/// configuration file, the defaults in ``SettingKey/all``.
public struct ShopSettings: Sendable {
    public struct Postgres: Sendable {
        public var host: String
        public var port: Int
        public var database: String
        public var user: String
        public var password: String?
        public var poolSize: Int
        /// serve's pool for public reads, apart from the one entries and purchases use.
        public var publicPoolSize: Int
        /// How long a serve request waits for a pooled connection before it gets 503.
        public var acquireTimeoutMilliseconds: Int
        public var connectTimeoutSeconds: Int
        public var statementTimeoutMilliseconds: Int
        /// 0: no limit.
        public var replyTimeoutMilliseconds: Int
        /// A primary and its standbys (`host:port` each); empty: `host` and `port` alone.
        public var hosts: [String] = []
        public var targetSessionAttributes: String = "read-write"
    }

    public struct Redis: Sendable {
        public var host: String
        public var port: Int
        public var password: String?
        public var connections: Int
        public var commandTimeoutMilliseconds: Int
        public var keyPrefix: String
        /// Redis Cluster instead of one Redis.
        public var cluster: Bool = false
        /// Cluster mode: `host:port` of the nodes to learn the slot map from.
        public var clusterNodes: [String] = []
        public var clusterRetryMilliseconds: Int = 5000
    }

    public struct HTTP: Sendable {
        public var host: String
        public var port: Int
        public var maxBodyBytes: Int
        /// Seconds without a complete request part before a connection is closed.
        public var idleTimeoutSeconds: Int
        /// Seconds a request's head may take from its first byte.
        public var headerTimeoutSeconds: Int
        /// Connections one client address may hold open at once.
        public var maxConnectionsPerAddress: Int
        /// Origins allowed to call the API from a browser (exact `scheme://host[:port]`).
        public var corsOrigins: [String]
    }

    public struct Console: Sendable {
        public var sessionTTLSeconds: Int
    }

    public struct Auth: Sendable {
        public var jwtSecret: String
        public var tokenTTLSeconds: Int
        /// How long a verified token is trusted before its account is checked again.
        public var tokenRecheckSeconds: Int
        public var bcryptCost: Int
        /// Passwords hashed or waiting for bcrypt at once in one process; more get 503.
        public var bcryptMaxPending: Int
    }

    public struct Payments: Sendable {
        public var url: String
        public var secret: String
        public var callbackSecret: String
        public var timeoutMilliseconds: Int
        public var connectTimeoutMilliseconds: Int
        public var windowSeconds: Int
        /// Extra time an order awaiting the provider's callback gets before it expires.
        public var callbackGraceSeconds: Int = 60
    }

    public struct Limits: Sendable {
        public var customerPerSecond: Double
        public var customerBurst: Int
        public var ipPerSecond: Double
        public var ipBurst: Int
        /// The payment callback's own per-address limit (it is not an API client's traffic).
        public var callbackPerSecond: Double
        public var callbackBurst: Int
        /// Logins and signups per minute, per address and per email, shared through Redis.
        public var authPerAddressPerMinute: Int
        public var authPerEmailPerMinute: Int
        /// Failed logins per email before progressive lockouts, and the longest lockout.
        public var authLockoutAfter: Int
        public var authLockoutFirstSeconds: Int
        public var authLockoutMaxSeconds: Int
    }

    /// serve's in-process cache of public reads in front of Redis.
    public struct Cache: Sendable {
        /// Documents kept; 0: no local cache.
        public var localEntries: Int = 10_000
        public var localTTLMilliseconds: Int = 1000
    }

    public struct Entries: Sendable {
        public var maxBatch: Int
        public var writers: Int
    }

    public struct Worker: Sendable {
        public var concurrency: Int
        public var queues: [String]
        public var heartbeatMilliseconds: Int
        public var shutdownGraceSeconds: Int
        public var metricsPort: Int
    }

    /// How often the scheduler leader runs each of its maintenance services.
    public struct Maintenance: Sendable {
        public var promoterMilliseconds: Int
        public var rescuerMilliseconds: Int
        public var dropOpenerMilliseconds: Int
        public var dropCloserMilliseconds: Int
        public var orderReconcilerMilliseconds: Int
        public var gateReconcilerMilliseconds: Int
    }

    public enum OpenRunStrategy: String, Sendable {
        case gate, classic
    }

    public var postgres: Postgres
    public var redis: Redis
    public var http: HTTP
    public var console: Console
    public var auth: Auth
    public var payments: Payments
    public var limits: Limits
    public var entries: Entries
    public var cache = Cache()
    public var worker: Worker
    public var schedulerTickMilliseconds: Int
    public var schedulerMetricsPort: Int
    public var maintenance: Maintenance
    /// How often `serve` samples orders by status and queue depths for `/metrics`.
    public var metricsSampleMilliseconds: Int
    public var jobCatalogDirectory: String
    public var openRunStrategy: OpenRunStrategy
    public var logLevel: String
}

extension ShopSettings {
    /// Reads and validates every key.
    ///
    /// - Parameters:
    ///   - overrides: values from command-line flags, by key name.
    ///   - environment: the process environment; only `FASTEST_SHOP_*` variables are read.
    ///   - configFile: a JSON file; nil for none. A file key that is not a setting is an error.
    public static func load(
        overrides: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configFile: String? = nil
    ) async throws -> ShopSettings {
        let reader = try await makeReader(overrides: overrides, environment: environment, configFile: configFile)
        let values = SettingsValues(reader: reader)
        return try ShopSettings(values)
    }

    static func makeReader(
        overrides: [String: String],
        environment: [String: String],
        configFile: String?
    ) async throws -> ConfigReader {
        for name in overrides.keys where SettingKey.named(name) == nil {
            throw ConfigurationError(key: name, problem: "is not a setting")
        }
        // Flags and environment are both text: the environment provider parses text into typed
        // values, so both go through it, keyed by the environment-style name.
        var flagVariables: [String: String] = [:]
        for (name, value) in overrides {
            flagVariables[SettingKey.named(name)!.environmentVariable.dropPrefix("FASTEST_SHOP_")] = value
        }
        var environmentVariables: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("FASTEST_SHOP_") {
            environmentVariables[name.dropPrefix("FASTEST_SHOP_")] = value
        }
        // A secret may come from a file named by `<VARIABLE>_FILE` (a mounted secret, kept out
        // of the environment); a value in the variable itself wins.
        for key in SettingKey.all where key.isSecret {
            let name = key.environmentVariable.dropPrefix("FASTEST_SHOP_")
            guard environmentVariables[name] == nil, let path = environment[key.environmentVariable + "_FILE"] else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(key: key.name, problem: "cannot read the file \(key.environmentVariable)_FILE names")
            }
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            environmentVariables[name] = text
        }
        let secretNames = Set(SettingKey.all.filter(\.isSecret).map { $0.environmentVariable.dropPrefix("FASTEST_SHOP_") })
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: flagVariables, secretsSpecifier: .specific(secretNames)),
            EnvironmentVariablesProvider(environmentVariables: environmentVariables, secretsSpecifier: .specific(secretNames)),
        ]
        if let configFile {
            try validateFileKeys(configFile)
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
        }
        providers.append(InMemoryProvider(name: "defaults", values: defaultValues()))
        return ConfigReader(providers: providers)
    }

    /// A key in the file that is not a setting is almost always a typo; refuse it by name. So is
    /// a value of the wrong shape: the file provider would silently skip a `null` (leaving the
    /// default in force) and fail on an array of objects without naming any setting.
    static func validateFileKeys(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "--config", problem: "cannot read \(path)")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigurationError(key: "--config", problem: "\(path) is not valid JSON")
        }
        func walk(_ value: Any, _ prefix: String) throws {
            if let dictionary = value as? [String: Any] {
                for (key, child) in dictionary {
                    try walk(child, prefix.isEmpty ? key : prefix + "." + key)
                }
            } else if let setting = SettingKey.named(prefix) {
                if !fileValue(value, fits: setting.kind) {
                    throw ConfigurationError(key: prefix, problem: "in \(path) must be \(setting.kind.valueDescription)")
                }
            } else {
                throw ConfigurationError(key: prefix, problem: "in \(path) is not a setting")
            }
        }
        try walk(object, "")
    }

    /// Whether a value parsed from the JSON file has the JSON type of `kind` (the reader checks
    /// ranges and integrality afterwards).
    static func fileValue(_ value: Any, fits kind: SettingKey.Kind) -> Bool {
        if value is String { return kind == .string }
        let isNumber = value is NSNumber || value is Int || value is Double || value is Bool
        switch kind {
        case .string: return false
        case .int, .double, .bool: return isNumber
        }
    }

    static func defaultValues() -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for key in SettingKey.all {
            guard let json = key.defaultJSON,
                let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
            else { continue }
            let content: ConfigContent
            switch key.kind {
            case .string: content = .string(parsed as! String)
            case .int: content = .int((parsed as! NSNumber).intValue)
            case .double: content = .double((parsed as! NSNumber).doubleValue)
            case .bool: content = .bool((parsed as! NSNumber).boolValue)
            }
            values[AbsoluteConfigKey(ConfigKey(key.name))] = ConfigValue(content, isSecret: key.isSecret)
        }
        return values
    }
}

/// Typed reads with range checks; every failure names its key.
struct SettingsValues {
    let reader: ConfigReader

    func string(_ name: String, nonEmpty: Bool = false) throws -> String {
        let key = try setting(name)
        let value: String
        do {
            value = try reader.requiredString(forKey: ConfigKey(name), isSecret: key.isSecret)
        } catch {
            throw ConfigurationError(key: name, problem: "is missing or not text")
        }
        if nonEmpty && value.isEmpty { throw ConfigurationError(key: name, problem: "must not be empty") }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        _ = try setting(name)
        let value: Int
        do {
            value = try reader.requiredInt(forKey: ConfigKey(name))
        } catch {
            throw ConfigurationError(key: name, problem: "must be an integer")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: name, problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func double(_ name: String, in range: ClosedRange<Double>) throws -> Double {
        _ = try setting(name)
        let value: Double
        do {
            value = try reader.requiredDouble(forKey: ConfigKey(name))
        } catch {
            throw ConfigurationError(key: name, problem: "must be a number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: name, problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func optionalSecret(_ name: String) throws -> String? {
        let value = try string(name)
        return value.isEmpty ? nil : value
    }

    private func setting(_ name: String) throws -> SettingKey {
        guard let key = SettingKey.named(name) else {
            preconditionFailure("\(name) is read but not declared in SettingKey.all")
        }
        return key
    }
}

extension ShopSettings {
    /// A comma-separated list of `host:port`, each checked; empty text is an empty list.
    static func endpoints(_ text: String, key: String) throws -> [String] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for item in items {
            guard let colon = item.lastIndex(of: ":"), colon > item.startIndex,
                let port = Int(item[item.index(after: colon)...]), (1...65535).contains(port)
            else { throw ConfigurationError(key: key, problem: "'\(item)' is not host:port") }
        }
        return items
    }

    init(_ values: SettingsValues) throws {
        postgres = Postgres(
            host: try values.string("postgres.host", nonEmpty: true),
            port: try values.int("postgres.port", in: 1...65535),
            database: try values.string("postgres.database", nonEmpty: true),
            user: try values.string("postgres.user", nonEmpty: true),
            password: try values.optionalSecret("postgres.password"),
            poolSize: try values.int("postgres.pool_size", in: 1...256),
            publicPoolSize: try values.int("postgres.public_pool_size", in: 1...64),
            acquireTimeoutMilliseconds: try values.int("postgres.acquire_timeout_ms", in: 1...600_000),
            connectTimeoutSeconds: try values.int("postgres.connect_timeout_s", in: 1...300),
            statementTimeoutMilliseconds: try values.int("postgres.statement_timeout_ms", in: 0...3_600_000),
            replyTimeoutMilliseconds: try values.int("postgres.reply_timeout_ms", in: 0...3_600_000))
        postgres.hosts = try Self.endpoints(values.string("postgres.hosts"), key: "postgres.hosts")
        postgres.targetSessionAttributes = try values.string("postgres.target_session_attrs")
        let sessionAttributes = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"]
        guard sessionAttributes.contains(postgres.targetSessionAttributes) else {
            throw ConfigurationError(
                key: "postgres.target_session_attrs",
                problem: "must be one of \(sessionAttributes.joined(separator: ", ")), got '\(postgres.targetSessionAttributes)'")
        }
        redis = Redis(
            host: try values.string("redis.host", nonEmpty: true),
            port: try values.int("redis.port", in: 1...65535),
            password: try values.optionalSecret("redis.password"),
            connections: try values.int("redis.connections", in: 1...64),
            commandTimeoutMilliseconds: try values.int("redis.command_timeout_ms", in: 10...600_000),
            keyPrefix: try values.string("redis.key_prefix"))
        if redis.keyPrefix.contains("{") || redis.keyPrefix.contains("}") {
            throw ConfigurationError(key: "redis.key_prefix", problem: "must not contain '{' or '}' (hash tags are placed by the client)")
        }
        switch try values.string("redis.mode") {
        case "single": redis.cluster = false
        case "cluster": redis.cluster = true
        case let other: throw ConfigurationError(key: "redis.mode", problem: "must be 'single' or 'cluster', got '\(other)'")
        }
        redis.clusterNodes = try Self.endpoints(values.string("redis.cluster_nodes"), key: "redis.cluster_nodes")
        redis.clusterRetryMilliseconds = try values.int("redis.cluster_retry_ms", in: 0...600_000)
        http = HTTP(
            host: try values.string("http.host", nonEmpty: true),
            port: try values.int("http.port", in: 0...65535),
            maxBodyBytes: try values.int("http.max_body_bytes", in: 256...(64 << 20)),
            idleTimeoutSeconds: try values.int("http.idle_timeout_s", in: 1...3600),
            headerTimeoutSeconds: try values.int("http.header_timeout_s", in: 1...3600),
            maxConnectionsPerAddress: try values.int("http.max_connections_per_address", in: 1...1_000_000),
            corsOrigins: try values.string("http.cors_origins")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        for origin in http.corsOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ConfigurationError(key: "http.cors_origins", problem: "'\(origin)' is not an origin like https://shop.example")
        }
        console = Console(sessionTTLSeconds: try values.int("console.session_ttl_s", in: 60...31 * 86_400))
        auth = Auth(
            jwtSecret: try values.string("auth.jwt_secret"),
            tokenTTLSeconds: try values.int("auth.token_ttl_s", in: 10...86_400),
            tokenRecheckSeconds: try values.int("auth.token_recheck_s", in: 1...3600),
            bcryptCost: try values.int("auth.bcrypt_cost", in: 4...31),
            bcryptMaxPending: try values.int("auth.bcrypt_max_pending", in: 1...1_000_000))
        if !auth.jwtSecret.isEmpty && auth.jwtSecret.utf8.count < 32 {
            throw ConfigurationError(key: "auth.jwt_secret", problem: "must be at least 32 bytes long")
        }
        payments = Payments(
            url: try values.string("payments.url", nonEmpty: true),
            secret: try values.string("payments.secret"),
            callbackSecret: try values.string("payments.callback_secret"),
            timeoutMilliseconds: try values.int("payments.timeout_ms", in: 10...600_000),
            connectTimeoutMilliseconds: try values.int("payments.connect_timeout_ms", in: 10...60_000),
            windowSeconds: try values.int("payments.window_s", in: 1...7 * 86_400))
        payments.callbackGraceSeconds = try values.int("payments.callback_grace_s", in: 0...86_400)
        guard payments.url.hasPrefix("https://") || (payments.url.hasPrefix("http://") && Self.isLoopback(url: payments.url)) else {
            // Charges carry amounts and a signature anyone on the path could replay within the
            // tolerance: plain HTTP only to this machine (the mock provider, tests).
            throw ConfigurationError(key: "payments.url", problem: "must be an https:// URL (http:// only to a loopback address)")
        }
        // HMAC-SHA256 keys: shorter than the hash they are no stronger than a password.
        for (key, secret) in [("payments.secret", payments.secret), ("payments.callback_secret", payments.callbackSecret)]
        where !secret.isEmpty && secret.utf8.count < 32 {
            throw ConfigurationError(key: key, problem: "must be at least 32 bytes long")
        }
        limits = Limits(
            customerPerSecond: try values.double("limits.customer_per_s", in: 0.01...1_000_000),
            customerBurst: try values.int("limits.customer_burst", in: 1...10_000_000),
            ipPerSecond: try values.double("limits.ip_per_s", in: 0.01...10_000_000),
            ipBurst: try values.int("limits.ip_burst", in: 1...100_000_000),
            callbackPerSecond: try values.double("limits.callback_per_s", in: 0.01...10_000_000),
            callbackBurst: try values.int("limits.callback_burst", in: 1...100_000_000),
            authPerAddressPerMinute: try values.int("limits.auth_ip_per_min", in: 1...10_000_000),
            authPerEmailPerMinute: try values.int("limits.auth_email_per_min", in: 1...10_000_000),
            authLockoutAfter: try values.int("limits.auth_lockout_after", in: 1...1_000_000),
            authLockoutFirstSeconds: try values.int("limits.auth_lockout_first_s", in: 1...86_400),
            authLockoutMaxSeconds: try values.int("limits.auth_lockout_max_s", in: 1...86_400))
        cache = Cache(
            localEntries: try values.int("cache.local_entries", in: 0...10_000_000),
            localTTLMilliseconds: try values.int("cache.local_ttl_ms", in: 0...3_600_000))
        entries = Entries(
            maxBatch: try values.int("entries.max_batch", in: 1...100_000),
            writers: try values.int("entries.writers", in: 1...64))
        // The writers borrow their connections from serve's request pool: as many writers as
        // connections would leave requests none while every writer commits.
        guard entries.writers < postgres.poolSize else {
            throw ConfigurationError(
                key: "entries.writers",
                problem: "must be less than postgres.pool_size (\(postgres.poolSize)), whose connections the writers borrow, got \(entries.writers)")
        }
        let queues = try values.string("worker.queues", nonEmpty: true)
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !queues.isEmpty else {
            throw ConfigurationError(key: "worker.queues", problem: "must name at least one queue")
        }
        worker = Worker(
            concurrency: try values.int("worker.concurrency", in: 1...10_000),
            queues: queues,
            heartbeatMilliseconds: try values.int("worker.heartbeat_ms", in: 50...60_000),
            shutdownGraceSeconds: try values.int("worker.shutdown_grace_s", in: 0...3600),
            metricsPort: try values.int("worker.metrics_port", in: 0...65535))
        schedulerTickMilliseconds = try values.int("scheduler.tick_ms", in: 10...60_000)
        schedulerMetricsPort = try values.int("scheduler.metrics_port", in: 0...65535)
        maintenance = Maintenance(
            promoterMilliseconds: try values.int("scheduler.promoter_interval_ms", in: 10...3_600_000),
            rescuerMilliseconds: try values.int("scheduler.rescuer_interval_ms", in: 10...3_600_000),
            dropOpenerMilliseconds: try values.int("scheduler.drop_opener_interval_ms", in: 10...3_600_000),
            dropCloserMilliseconds: try values.int("scheduler.drop_closer_interval_ms", in: 10...3_600_000),
            orderReconcilerMilliseconds: try values.int("scheduler.order_reconciler_interval_ms", in: 10...3_600_000),
            gateReconcilerMilliseconds: try values.int("scheduler.gate_reconciler_interval_ms", in: 10...3_600_000))
        metricsSampleMilliseconds = try values.int("metrics.sample_ms", in: 100...600_000)
        jobCatalogDirectory = try values.string("jobs.catalog", nonEmpty: true)
        let strategy = try values.string("open_run.strategy")
        guard let parsedStrategy = OpenRunStrategy(rawValue: strategy) else {
            throw ConfigurationError(key: "open_run.strategy", problem: "must be gate or classic, got '\(strategy)'")
        }
        openRunStrategy = parsedStrategy
        logLevel = try values.string("log.level")
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw ConfigurationError(key: "log.level", problem: "must be one of \(levels.joined(separator: ", ")), got '\(logLevel)'")
        }
    }

    /// True when `url`'s host is this machine: `localhost`, 127.0.0.0/8 or `::1`.
    static func isLoopback(url: String) -> Bool {
        guard var host = URL(string: url)?.host?.lowercased() else { return false }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Stops start-up of a role that needs a secret that was not given.
    public func require(_ name: String, _ value: String) throws {
        if value.isEmpty { throw ConfigurationError(key: name, problem: "is required by this command but not set") }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
