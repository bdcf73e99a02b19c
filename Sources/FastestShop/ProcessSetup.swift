import Foundation
import JobQueue
import Logging
import Redis
import ServiceLifecycle
import Settings
import UnixSignals

/// What every long-running role sets up the same way.
enum ProcessSetup {
    /// Logs go to stderr at the configured level; bootstrapped once per process.
    static func bootstrapLogging(_ settings: ShopSettings) -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "fastest-shop")
    }

    static func loadCatalog(_ settings: ShopSettings) throws -> JobCatalog {
        do {
            return try JobCatalog.load(directory: settings.jobCatalogDirectory)
        } catch let error as JobCatalogError {
            throw CommandFailure(message: error.description, exitCode: 2)
        }
    }

    /// Queue keys live under the deployment's Redis prefix.
    static func jobQueue(_ settings: ShopSettings, redis: RedisClient, catalog: JobCatalog) -> JobQueue {
        JobQueue(redis: redis, catalog: catalog, keyPrefix: settings.redis.keyPrefix + "jobs:")
    }

    /// Runs `services` until SIGTERM or SIGINT, then shuts them down gracefully, last first.
    static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
