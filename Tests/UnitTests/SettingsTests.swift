import Foundation
import Postgres
import Settings
import Testing
import Worker

/// The configuration contract: the documented keys are exactly the real ones, precedence is
/// flags > environment > file > defaults, and bad values stop start-up with an error that names
/// the key without ever echoing a secret.
@Suite struct SettingsTests {
    // MARK: documentation matches SettingKey.all

    @Test func configFileListsEveryKeyWithItsDefault() throws {
        let data = try Data(contentsOf: repositoryFile("config/fastest-shop.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let leaves = flatten(document)
        #expect(Set(leaves.keys) == Set(SettingKey.all.map(\.name)))
        for key in SettingKey.all {
            guard let value = leaves[key.name] else { continue }
            let expected = try #require(key.defaultJSON.map { try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) })
            #expect(sameJSONValue(value, expected), "\(key.name) is \(value) in the file, default \(key.defaultJSON ?? "none")")
        }
    }

    @Test func readmeTableListsEveryKeyWithItsVariableTypeDefaultAndSecrecy() throws {
        let readme = try String(contentsOf: repositoryFile("config/README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n")
            .filter { $0.hasPrefix("| `") }
            .map { line in line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        let byKey = Dictionary(rows.map { (unquote($0[1]), $0) }, uniquingKeysWith: { first, _ in first })
        #expect(rows.count == SettingKey.all.count, "one row per key, no duplicates")
        #expect(Set(byKey.keys) == Set(SettingKey.all.map(\.name)))
        for key in SettingKey.all {
            guard let row = byKey[key.name] else { continue }
            #expect(unquote(row[2]) == key.environmentVariable, "\(key.name)")
            #expect(row[3] == key.kind.rawValue, "\(key.name)")
            #expect(unquote(row[4]) == key.defaultJSON, "\(key.name)")
            #expect(row[5].hasPrefix("**Secret.**") == key.isSecret, "\(key.name) secret marker")
            #expect(row[5].contains(key.meaning.replacingOccurrences(of: "|", with: "\\|")), "\(key.name) meaning")
        }
    }

    @Test func theShippedFileChangesNothing() async throws {
        let fromFile = try await ShopSettings.load(environment: [:], configFile: repositoryFile("config/fastest-shop.json").path)
        let defaults = try await ShopSettings.load(environment: [:])
        #expect(String(reflecting: fromFile) == String(reflecting: defaults))
        #expect(defaults.postgres.port == 5432)
        #expect(defaults.limits.customerPerSecond == 20)
        #expect(defaults.worker.queues == ["drops", "payments"])
        #expect(defaults.postgres.password == nil)
        #expect(defaults.openRunStrategy == .gate)
    }

    @Test func environmentVariableNamesFollowTheKeys() {
        #expect(SettingKey.named("postgres.pool_size")?.environmentVariable == "FASTEST_SHOP_POSTGRES_POOL_SIZE")
        #expect(SettingKey.named("open_run.strategy")?.environmentVariable == "FASTEST_SHOP_OPEN_RUN_STRATEGY")
        #expect(Set(SettingKey.all.map(\.environmentVariable)).count == SettingKey.all.count)
        #expect(SettingKey.named("postgres.hots") == nil)
    }

    // MARK: precedence

    @Test func environmentOverridesTheFile() async throws {
        try await withConfigFile(#"{"postgres": {"port": 6001, "host": "db.file"}, "limits": {"customer_per_s": 1.5}, "worker": {"queues": "a, b"}}"#)
        { file in
            let fileOnly = try await ShopSettings.load(environment: [:], configFile: file)
            #expect(fileOnly.postgres.port == 6001)
            #expect(fileOnly.postgres.host == "db.file")
            #expect(fileOnly.limits.customerPerSecond == 1.5)
            #expect(fileOnly.worker.queues == ["a", "b"])

            let environment = [
                "FASTEST_SHOP_POSTGRES_PORT": "6002",
                "FASTEST_SHOP_LIMITS_CUSTOMER_PER_S": "2.5",
                "FASTEST_SHOP_WORKER_QUEUES": "c",
                "UNRELATED": "ignored",
            ]
            let overridden = try await ShopSettings.load(environment: environment, configFile: file)
            #expect(overridden.postgres.port == 6002)
            #expect(overridden.postgres.host == "db.file")  // not in the environment: the file's
            #expect(overridden.limits.customerPerSecond == 2.5)
            #expect(overridden.worker.queues == ["c"])
        }
    }

    @Test func flagsOverrideTheEnvironment() async throws {
        try await withConfigFile(#"{"postgres": {"port": 6001}, "log": {"level": "debug"}}"#) { file in
            let settings = try await ShopSettings.load(
                overrides: ["postgres.port": "6003", "redis.connections": "7"],
                environment: ["FASTEST_SHOP_POSTGRES_PORT": "6002", "FASTEST_SHOP_REDIS_CONNECTIONS": "5", "FASTEST_SHOP_LOG_LEVEL": "warning"],
                configFile: file)
            #expect(settings.postgres.port == 6003)
            #expect(settings.redis.connections == 7)
            #expect(settings.logLevel == "warning")  // environment over file where no flag is given
        }
        let noFile = try await ShopSettings.load(overrides: ["http.port": "0"], environment: ["FASTEST_SHOP_HTTP_PORT": "9000"])
        #expect(noFile.http.port == 0)
    }

    @Test func secretsComeThroughAndEmptyMeansNone() async throws {
        let settings = try await ShopSettings.load(
            overrides: ["redis.password": "flag-secret"],
            environment: ["FASTEST_SHOP_POSTGRES_PASSWORD": "env-secret", "FASTEST_SHOP_AUTH_JWT_SECRET": String(repeating: "k", count: 32)])
        #expect(settings.postgres.password == "env-secret")
        #expect(settings.redis.password == "flag-secret")
        #expect(settings.postgresConfiguration.password == "env-secret")
        let empty = try await ShopSettings.load(environment: ["FASTEST_SHOP_POSTGRES_PASSWORD": ""])
        #expect(empty.postgres.password == nil)
    }

    // MARK: bad values name their key

    static let badValues: [(source: Source, key: String, value: String)] = [
        (.environment, "postgres.port", "54x2"),
        (.flag, "postgres.port", "five"),
        (.file, "postgres.port", #""5432""#),  // a string where the file must hold a number
        (.environment, "postgres.port", "70000"),
        (.environment, "postgres.pool_size", "0"),
        (.flag, "postgres.pool_size", "257"),
        (.file, "postgres.pool_size", "-1"),
        (.environment, "redis.connections", "1.5"),
        (.environment, "log.level", "loud"),
        (.file, "log.level", #""LOUD""#),
        (.file, "log.level", "null"),
        (.file, "postgres.port", "[5432]"),
        (.file, "worker.queues", #"[{"name": "drops"}]"#),
        (.file, "redis.key_prefix", "7"),
        (.flag, "open_run.strategy", "fastest"),
        (.environment, "limits.customer_per_s", "fast"),
        (.environment, "payments.url", "ftp://example.com"),
        // Plain HTTP only to this machine; secrets at least 32 bytes.
        (.environment, "payments.url", "http://payments.example.com/v1/charges"),
        (.flag, "payments.url", "http://127.0.0.1.example.com/v1/charges"),
        (.environment, "payments.secret", String(repeating: "s", count: 31)),
        (.flag, "payments.callback_secret", String(repeating: "c", count: 31)),
        (.environment, "worker.queues", " , "),
        (.environment, "postgres.host", ""),
    ]

    enum Source: String, CustomStringConvertible {
        case environment, flag, file
        var description: String { rawValue }
    }

    @Test(arguments: badValues)
    func badValueFailsNamingTheKeyAndVariable(_ source: Source, _ key: String, _ value: String) async throws {
        let setting = try #require(SettingKey.named(key))
        let error = await #expect(throws: ConfigurationError.self) {
            switch source {
            case .environment:
                _ = try await ShopSettings.load(environment: [setting.environmentVariable: value])
            case .flag:
                _ = try await ShopSettings.load(overrides: [key: value], environment: [:])
            case .file:
                try await withConfigFile(nested(key, json: value)) { file in
                    _ = try await ShopSettings.load(environment: [:], configFile: file)
                }
            }
        }
        #expect(error?.key == key)
        #expect(error?.description.contains(key) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains(setting.environmentVariable) == true, "\(error?.description ?? "")")
    }

    /// serve's entry writers borrow their connections from the request pool: they must leave
    /// requests at least one.
    @Test func entryWritersMustBeFewerThanThePoolsConnections() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            _ = try await ShopSettings.load(overrides: ["postgres.pool_size": "4", "entries.writers": "4"], environment: [:])
        }
        #expect(error?.key == "entries.writers")
        #expect(error?.description.contains("less than postgres.pool_size (4)") == true, "\(error?.description ?? "")")
        let fits = try await ShopSettings.load(overrides: ["postgres.pool_size": "4", "entries.writers": "3"], environment: [:])
        #expect(fits.entries.writers == 3 && fits.postgres.poolSize == 4)
    }

    @Test func providerURLsAreHTTPSOrLoopbackAndSecretsLongEnough() async throws {
        for url in [
            "https://pay.example.com/v1/charges", "http://127.0.0.1:8090/v1/charges", "http://localhost/x",
            "http://127.3.2.1/x", "http://[::1]:9/x",
        ] {
            let settings = try await ShopSettings.load(environment: [
                "FASTEST_SHOP_PAYMENTS_URL": url, "FASTEST_SHOP_PAYMENTS_SECRET": String(repeating: "s", count: 32),
                "FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET": String(repeating: "c", count: 32),
            ])
            #expect(settings.payments.url == url)
        }
    }

    @Test func unknownKeysAreRefusedByName() async throws {
        try await withConfigFile(#"{"postgres": {"hots": "db"}}"#) { file in
            let error = await #expect(throws: ConfigurationError.self) {
                _ = try await ShopSettings.load(environment: [:], configFile: file)
            }
            #expect(error?.key == "postgres.hots")
            #expect(error?.description.contains("postgres.hots") == true)
        }
        try await withConfigFile(#"{"logging": "debug"}"#) { file in
            let error = await #expect(throws: ConfigurationError.self) {
                _ = try await ShopSettings.load(environment: [:], configFile: file)
            }
            #expect(error?.key == "logging")
        }
        let flag = await #expect(throws: ConfigurationError.self) {
            _ = try await ShopSettings.load(overrides: ["postgres.prot": "1"], environment: [:])
        }
        #expect(flag?.key == "postgres.prot")
    }

    @Test func unreadableOrMalformedFilesAreRefused() async throws {
        let missing = await #expect(throws: ConfigurationError.self) {
            _ = try await ShopSettings.load(environment: [:], configFile: "/nonexistent/fastest-shop.json")
        }
        #expect(missing?.description.contains("/nonexistent/fastest-shop.json") == true)
        try await withConfigFile(#"{"postgres": {"port": 5432"#) { file in
            await #expect(throws: ConfigurationError.self) {
                _ = try await ShopSettings.load(environment: [:], configFile: file)
            }
        }
    }

    // MARK: secrets stay secret

    /// Whatever prints the settings (a service description logged at start-up, a dump) sees
    /// every secret redacted.
    @Test func secretsNeverAppearInDescriptionsOrDumps() async throws {
        let secret = "s3cr3t-" + UUID().uuidString + UUID().uuidString
        let environment = Dictionary(uniqueKeysWithValues: SettingKey.all.filter(\.isSecret).map { ($0.environmentVariable, secret) })
        let settings = try await ShopSettings.load(environment: environment)
        #expect(settings.auth.jwtSecret == secret && settings.payments.callbackSecret == secret)
        struct Holder { let settings: ShopSettings }
        var dumped = ""
        dump(settings, to: &dumped)
        for text in [String(describing: settings), String(reflecting: settings), String(describing: Holder(settings: settings)), dumped] {
            #expect(!text.contains(secret))
            #expect(text.contains("<redacted>"))
            #expect(text.contains("bcryptCost"), "the rest is still described")
        }
        // So do the client configurations made from them.
        let payments = PaymentClient.Configuration(
            url: settings.payments.url, secret: settings.payments.secret, timeoutMilliseconds: 1000, connectTimeoutMilliseconds: 1000)
        let clients: [Any] = [settings.requestPostgresConfiguration, settings.redisConfiguration, payments]
        for client in clients {
            struct ClientHolder { let client: Any }
            var clientDump = ""
            dump(client, to: &clientDump)
            for text in [String(describing: client), String(reflecting: client), String(describing: ClientHolder(client: client)), clientDump] {
                #expect(!text.contains(secret), "\(type(of: client))")
                #expect(text.contains("<redacted>"), "\(type(of: client))")
                #expect(text.contains("127.0.0.1") || text.contains("http"), "the rest is still described")
            }
        }
    }

    @Test func secretsNeverAppearInErrors() async throws {
        // Unique, and shorter than the 32 bytes a JWT key needs, so that it is itself a bad value.
        let secret = "s3cr3t-" + UUID().uuidString.prefix(8)
        let secretVariables = Dictionary(uniqueKeysWithValues: SettingKey.all.filter(\.isSecret).map { ($0.environmentVariable, secret) })
        let secretFlags = Dictionary(uniqueKeysWithValues: SettingKey.all.filter(\.isSecret).map { ($0.name, secret) })
        #expect(secretVariables.count >= 5)

        var descriptions: [String] = []
        func record(_ body: () async throws -> Void) async {
            do {
                try await body()
                Issue.record("expected a configuration error")
            } catch {
                descriptions.append(String(describing: error))
                descriptions.append(String(reflecting: error))
                descriptions.append(error.localizedDescription)
            }
        }
        // The secret itself is the bad value (too short for a JWT key; the wrong type in a file).
        await record { _ = try await ShopSettings.load(environment: secretVariables) }
        await record { _ = try await ShopSettings.load(overrides: secretFlags, environment: [:]) }
        try await withConfigFile(#"{"auth": {"jwt_secret": "\#(secret)"}}"#) { file in
            await record { _ = try await ShopSettings.load(environment: [:], configFile: file) }
        }
        try await withConfigFile(#"{"postgres": {"password": ["\#(secret)"]}}"#) { file in
            await record { _ = try await ShopSettings.load(environment: [:], configFile: file) }
        }
        // Another key is bad while secrets are set everywhere.
        var withBadPort = secretVariables
        withBadPort["FASTEST_SHOP_AUTH_JWT_SECRET"] = secret + secret + secret
        withBadPort["FASTEST_SHOP_POSTGRES_PORT"] = "port"
        await record {
            _ = try await ShopSettings.load(overrides: secretFlags.filter { $0.key != "auth.jwt_secret" }, environment: withBadPort)
        }
        // A secret set under a key that does not exist.
        await record { _ = try await ShopSettings.load(overrides: ["postgres.pasword": secret], environment: [:]) }

        #expect(descriptions.count == 18)
        for description in descriptions {
            #expect(!description.contains("s3cr3t"), "leaked: \(description)")
        }
    }
}

// MARK: helpers

/// A file of the repository, found from this source file's location.
private func repositoryFile(_ path: String) -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(path)
}

/// Dotted key → leaf value of a nested JSON object.
private func flatten(_ object: [String: Any], prefix: String = "") -> [String: Any] {
    var leaves: [String: Any] = [:]
    for (key, value) in object {
        let name = prefix.isEmpty ? key : prefix + "." + key
        if let nested = value as? [String: Any] {
            leaves.merge(flatten(nested, prefix: name)) { first, _ in first }
        } else {
            leaves[name] = value
        }
    }
    return leaves
}

private func sameJSONValue(_ lhs: Any, _ rhs: Any) -> Bool {
    if let lhs = lhs as? String, let rhs = rhs as? String { return lhs == rhs }
    if lhs is String || rhs is String { return false }
    if let lhs = lhs as? NSNumber, let rhs = rhs as? NSNumber { return lhs.doubleValue == rhs.doubleValue }
    return false
}

private func unquote(_ cell: String) -> String {
    cell.hasPrefix("`") && cell.hasSuffix("`") && cell.count >= 2 ? String(cell.dropFirst().dropLast()) : cell
}

/// `{"a": {"b": <json>}}` for the key `a.b`.
private func nested(_ key: String, json: String) -> String {
    let parts = key.split(separator: ".")
    return parts.reversed().reduce(json) { inner, part in "{\"\(part)\": \(inner)}" }
}

/// Runs `body` with the path of a temporary JSON configuration file holding `contents`.
@discardableResult
private func withConfigFile<T>(_ contents: String, _ body: (String) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fastest-shop-\(UUID().uuidString).json")
    try contents.write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}
