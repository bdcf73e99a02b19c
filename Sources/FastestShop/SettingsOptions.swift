import ArgumentParser
import Foundation
import LocalServices
import Settings

/// Options every role shares: the configuration file and per-key overrides.
struct SettingsOptions: ParsableArguments {
    @Option(help: "JSON configuration file (default: config/fastest-shop.json when present).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one setting.", valueName: "key=value"))
    var overrides: [String] = []

    /// Loads the settings; `extra` holds values of dedicated flags (which win over `--set`).
    func load(_ extra: [String: String] = [:]) async throws -> ShopSettings {
        var values: [String: String] = [:]
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw ConfigurationError(key: override, problem: "--set needs key=value")
            }
            let key = String(override[..<equals])
            // A flag's value shows in `ps` and shell history; secrets come from the environment
            // or a file only (docs/contract.md, "Command line").
            if let setting = SettingKey.named(key), setting.isSecret {
                throw ConfigurationError(
                    key: key,
                    problem: "is a secret and cannot be given with --set; use \(setting.environmentVariable) or \(setting.environmentVariable)_FILE")
            }
            values[key] = String(override[override.index(after: equals)...])
        }
        values.merge(extra) { _, flag in flag }
        return try await ShopSettings.load(overrides: values, configFile: configFile)
    }

    /// Like ``load(_:)``, but when no PostgreSQL or Redis location was given anywhere, starts the
    /// project's local services (`scripts/services`) and uses them. The servers it starts stop
    /// when this process ends, however it ends, unless `keepServices` (then `services stop`
    /// stops them); servers that were already running are left alone either way.
    func loadStartingLocalServices(_ extra: [String: String] = [:], keepServices: Bool = false) async throws -> ShopSettings {
        try await loadStartingLocalServicesReporting(extra, keepServices: keepServices).settings
    }

    /// Like ``loadStartingLocalServices(_:keepServices:)``, also returning the local services
    /// this call started (none when a location was given or everything was already running).
    func loadStartingLocalServicesReporting(
        _ extra: [String: String] = [:], keepServices: Bool = false
    ) async throws -> (settings: ShopSettings, started: StartedLocalServices?) {
        let environment = ProcessInfo.processInfo.environment
        let given =
            environment["FASTEST_SHOP_POSTGRES_PORT"] != nil || environment["FASTEST_SHOP_REDIS_PORT"] != nil
            || overrides.contains { $0.hasPrefix("postgres.") || $0.hasPrefix("redis.") }
        var values = extra
        var started: StartedLocalServices?
        if !given {
            let services = try LocalServices()
            let result = try services.startReporting(stoppedWithThisProcess: !keepServices)
            for (variable, value) in result.settings {
                if let key = SettingKey.all.first(where: { $0.environmentVariable == variable }) {
                    values[key.name] = value
                }
            }
            if !keepServices && !result.started.isEmpty { started = StartedLocalServices(services: services, servers: result.started) }
        }
        return (try await load(values), started)
    }

    private var configFile: String? {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["FASTEST_SHOP_CONFIG"] { return fromEnvironment }
        let local = FileManager.default.currentDirectoryPath + "/config/fastest-shop.json"
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }
}

/// The local servers a command started and stops when it ends (the watchdog of
/// `scripts/services` stops them too if the command is killed before it can).
struct StartedLocalServices: Sendable {
    let services: LocalServices
    let servers: [LocalServices.Server]

    func stop() {
        for server in servers { try? services.stopOnly(server) }
    }
}
