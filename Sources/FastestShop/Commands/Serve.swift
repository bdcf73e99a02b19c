import ArgumentParser
import Foundation
import Intake
import Logging
import Settings

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the intake HTTP API (accounts, products, drops, entries, purchases, orders, payment callbacks).",
        discussion: """
            Needs auth.jwt_secret (FASTEST_SHOP_AUTH_JWT_SECRET or --jwt-secret-file) and payments.callback_secret \
            (FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET). Stops gracefully on SIGTERM/SIGINT.
            """)

    @OptionGroup var settings: SettingsOptions

    @Option(help: "Address to listen on (http.host).") var host: String?
    @Option(help: "Port to listen on, 0 for any free port (http.port).") var port: Int?
    @Option(help: "File holding the HS256 key for access tokens (auth.jwt_secret).") var jwtSecretFile: String?

    func run() async throws {
        var extra: [String: String] = [:]
        if let host { extra["http.host"] = host }
        if let port { extra["http.port"] = String(port) }
        if let jwtSecretFile { extra["auth.jwt_secret"] = try readSecret(jwtSecretFile) }
        let settings = try await settings.load(extra)
        let logger = ProcessSetup.logger(settings, label: "fastest-shop.serve")
        let service = try await IntakeService(settings: settings, logger: logger)
        try await service.runUntilSignalled { port in
            // One machine-readable line on stdout (scripts and tests read the port from it).
            FileHandle.standardOutput.write(Data("serve: listening on http://\(settings.http.host):\(port)\n".utf8))
        }
    }
}

/// The first line of a secret file, without its line break.
func readSecret(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure(message: "cannot read \(path)")
    }
    let text = String(decoding: data, as: UTF8.self)
    return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
}
