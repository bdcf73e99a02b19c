import Foundation
import JobQueue
import Logging
import MemoryAllocator
import Observability
import Redis
import ServiceLifecycle
import Settings
import Synchronization
import UnixSignals

/// What every long-running role sets up the same way.
enum ProcessSetup {
    /// The level of loggers created from now on; a role sets it from its settings (``logger(_:label:)``).
    private static let logLevel = Mutex(Logger.Level.info)

    /// Logs go to stderr; bootstrapped once, before any command runs, so that no logger of any
    /// command (the bench's in-process servers included) keeps swift-log's default handler.
    static func bootstrapLogging() {
        LoggingSystem.bootstrap { label in
            DeferredFormattingLogHandler.standardError(label: label, level: logLevel.withLock { $0 })
        }
    }

    /// A role's logger, at its configured level, as are the loggers created after it.
    static func logger(_ settings: ShopSettings, label: String = "fastest-shop") -> Logger {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        logLevel.withLock { $0 = level }
        return Logger(label: label)
    }

    /// A drop opens with a rush: ten thousand requests in flight at once, each with its task,
    /// buffers and connection state, where a quiet minute before held a few dozen. glibc's
    /// allocator grows its arenas for such a peak a page run at a time (mprotect, page faults)
    /// and hands the memory back as soon as the peak is over, so the next rush pays again; both
    /// showed up in the CPU of a 10,000-buyer rush (`bench open-run`; figures in
    /// docs/benchmarks.md, "Open-run"). Grow in 64 MiB steps instead, and
    /// keep up to 1 GiB of freed heap for the next peak.
    ///
    /// (glibc's `mallopt` is not in Swift's Glibc module, so it is looked up at run time; on a C
    /// library without it this does nothing.) Only for a build on glibc's malloc: jemalloc, the
    /// executable's allocator, keeps freed pages for reuse by itself (its decay time).
    static func keepHeapForRushes() {
        guard !MemoryAllocator.isJemalloc else { return }
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        // <malloc.h>: M_TRIM_THRESHOLD is -1, M_TOP_PAD is -2.
        _ = mallopt(-2, 64 << 20)
        _ = mallopt(-1, 1 << 30)
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
        JobQueue(redis: redis, catalog: catalog, keyPrefix: JobQueue.keyPrefix(deployment: settings.redis.keyPrefix))
    }

    /// Runs `services` until SIGTERM or SIGINT, then shuts them down gracefully, last first.
    static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
