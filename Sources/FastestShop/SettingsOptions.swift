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
            // or a file only (SPEC §2).
            if let setting = SettingKey.named(key), setting.isSecret {
                throw ConfigurationError(
                    key: key, problem: "is a secret and cannot be given with --set; use \(setting.environmentVariable) or \(setting.environmentVariable)_FILE")
            }
            values[key] = String(override[override.index(after: equals)...])
        }
        values.merge(extra) { _, flag in flag }
        return try await ShopSettings.load(overrides: values, configFile: configFile)
    }

    /// Like ``load(_:)``, but when no PostgreSQL or Redis location was given anywhere, starts the
    /// project's local services (`scripts/services`) and uses them.
    func loadStartingLocalServices(_ extra: [String: String] = [:]) async throws -> ShopSettings {
        let environment = ProcessInfo.processInfo.environment
        let given = environment["FASTEST_SHOP_POSTGRES_PORT"] != nil || environment["FASTEST_SHOP_REDIS_PORT"] != nil
            || overrides.contains { $0.hasPrefix("postgres.") || $0.hasPrefix("redis.") }
        var values = extra
        if !given {
            let services = try LocalServices()
            for (variable, value) in try services.start() {
                if let key = SettingKey.all.first(where: { $0.environmentVariable == variable }) {
                    values[key.name] = value
                }
            }
        }
        return try await load(values)
    }

    private var configFile: String? {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["FASTEST_SHOP_CONFIG"] { return fromEnvironment }
        let local = FileManager.default.currentDirectoryPath + "/config/fastest-shop.json"
        return FileManager.default.fileExists(atPath: local) ? local : nil
    }
}
