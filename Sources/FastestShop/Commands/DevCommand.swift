import ArgumentParser
import Foundation
import Intake
import Logging
import ServiceLifecycle
import Settings
import ShopDomain
import Storage
import UnixSignals

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract:
            "Start local PostgreSQL and Redis (.fastest/), migrate, and run serve, scheduler, two workers and the mock payment provider; Ctrl-C stops all."
    )

    @OptionGroup var settings: SettingsOptions
    @Option(help: "Port of the intake API.") var port = 8080
    @Option(help: "Port of the mock payment provider.") var paymentsPort = 8090
    @Option(help: "Port of the workers' and scheduler's Prometheus metrics (/metrics; one endpoint, they share this process).")
    var metricsPort = 8091
    @Flag(help: "Leave the local PostgreSQL and Redis that dev starts running after it stops (a faster next start).")
    var keepServices = false

    func run() async throws {
        var logger = Logger(label: "fastest-shop.dev")
        logger.logLevel = .info
        let stack = try await LocalStack.make(
            options: settings, apiPort: port, paymentsPort: paymentsPort, metricsPort: metricsPort, keepServices: keepServices,
            logger: logger)
        let (email, password) = try await Self.createOperator(stack)
        let group = ServiceGroup(
            configuration: .init(
                services: stack.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let running = Task { try await group.run() }
        do {
            try await stack.waitUntilReady()
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            await stack.shutdown()
            throw error
        }
        print(
            """
            fastest-shop dev is running (Ctrl-C stops everything)
              intake API      \(stack.apiURL)   (OpenAPI: \(stack.apiURL)/openapi.json, metrics: \(stack.apiURL)/metrics)
              worker metrics  \(stack.metricsURL)   (the two workers and the scheduler; Grafana: docs/grafana/fastest-shop.json)
              console         \(stack.apiURL)/console   (sign in as the operator below)
              mock payments   \(stack.paymentsURL)   (stats: /v1/stats)
              PostgreSQL      127.0.0.1:\(stack.settings.postgres.port) database \(stack.settings.postgres.database)
              Redis           127.0.0.1:\(stack.settings.redis.port)
              operator        \(email) / \(password)
                              curl -s \(stack.apiURL)/v1/auth/login -d '{"email":"\(email)","password":"\(password)"}'
            """)
        let outcome = await running.result
        await stack.shutdown()
        let services = stack.startedServices.map { " (and the \($0.servers.map(\.rawValue).joined(separator: " and ")) it started)" } ?? ""
        print("fastest-shop dev stopped\(services)")
        try outcome.get()
    }

    /// A fresh operator account for this session.
    static func createOperator(_ stack: LocalStack) async throws -> (String, String) {
        let email = "operator-\(UUID().uuidString.prefix(6).lowercased())@dev.local"
        let password = UUID().uuidString
        let hash = try await stack.intake.passwords.hash(password)
        _ = try await UserStore(pool: stack.pool).create(email: EmailAddress(email)!, passwordHash: hash, role: .operator)
        return (email, password)
    }
}
