// swift-tools-version: 6.2
import PackageDescription

// Swift 6 language mode for every target; a few upcoming features that keep module edges honest.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The executable's allocator is jemalloc (issue 16). `FASTEST_SHOP_MALLOC=system swift build`
// builds with the C library's malloc instead, to measure one against the other.
let systemMalloc = Context.environment["FASTEST_SHOP_MALLOC"] == "system"

let package = Package(
    name: "fastest-shop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fastest-shop", targets: ["FastestShop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.5.2"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; apt names the Debian packages that provide them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // gzip for large responses (the stored audit bundle), over the system zlib.
        .target(name: "Gzip", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        // Links jemalloc, which replaces malloc for the whole process, and reports on it.
        .target(
            name: "MemoryAllocator", dependencies: systemMalloc ? [] : ["CJemalloc"],
            swiftSettings: swiftSettings + (systemMalloc ? [.define("FASTEST_SHOP_SYSTEM_MALLOC")] : [])),

        // Thin clients over the C libraries; blocking calls stay on threads they own.
        .target(name: "BlockingThreads", swiftSettings: swiftSettings),
        // The one way to start another program (no Foundation `Process`), tied to its parent's life.
        .target(name: "CProcessShims"),
        .target(name: "ChildProcesses", dependencies: ["BlockingThreads", "CProcessShims"], swiftSettings: swiftSettings),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ", "BlockingThreads", "TextEncodings",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis", "BlockingThreads", "TextEncodings",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "CurlHTTP", dependencies: ["CCurl", "CCurlShims", "BlockingThreads"], swiftSettings: swiftSettings),

        // Configuration and local services.
        .target(
            name: "Settings",
            dependencies: [
                "Postgres", "Redis",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "LocalServices", dependencies: ["ChildProcesses"], swiftSettings: swiftSettings),

        // Schema and data access.
        .target(
            name: "Storage",
            dependencies: ["Postgres", "ShopDomain", "TextEncodings"],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings),

        // The domain: drops, draws, payments rules. Pure Swift, never imports a C library.
        .target(
            name: "ShopDomain",
            dependencies: ["TextEncodings", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        // Hex and civil dates, spelt one way for the domain, the stores and the HTTP API.
        .target(name: "TextEncodings", swiftSettings: swiftSettings),

        // The job queue on Redis lists, its worker runtime and maintenance services.
        .target(
            name: "JobQueue",
            dependencies: [
                "Redis",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // Logs, and Prometheus metrics for the roles without an HTTP API (worker, scheduler).
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // The open-run admission gate in Redis.
        .target(
            name: "OpenRunGate",
            dependencies: ["Redis", "Postgres", "Storage", "ShopDomain"],
            swiftSettings: swiftSettings),

        // `fastest-shop worker`: the job handlers (draws, charges, expiries).
        .target(
            name: "Worker",
            dependencies: [
                "Postgres", "Redis", "CurlHTTP", "Settings", "ShopDomain", "Storage", "JobQueue", "ShopJobs", "OpenRunGate",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),

        // `fastest-shop scheduler`: leader election, drop lifecycle, queue maintenance, reconcile.
        .target(
            name: "Scheduler",
            dependencies: [
                "Postgres", "Redis", "Settings", "ShopDomain", "Storage", "JobQueue", "ShopJobs", "OpenRunGate", "BlockingThreads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // `fastest-shop serve`: the HTTP intake API.
        .target(
            name: "Intake",
            dependencies: [
                "Postgres", "Redis", "Settings", "ShopDomain", "Storage", "JobQueue", "ShopJobs", "OpenRunGate", "Gzip", "TextEncodings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The operator console: server-rendered pages, session ids hashed for Redis.
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Console/Templates"), .copy("OpenAPI/openapi.json")],
            swiftSettings: swiftSettings),

        // `fastest-shop mock-payments`: a real HTTP payment provider for tests, demos, benchmarks.
        .target(
            name: "MockPayments",
            dependencies: [
                "ShopDomain", "CurlHTTP", "TextEncodings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // The shop's job kinds and payloads, shared by intake, scheduler and worker.
        .target(
            name: "ShopJobs",
            dependencies: ["JobQueue", "Storage", "ShopDomain", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings),

        // `fastest-shop bench …` scenarios.
        .target(
            name: "Bench",
            dependencies: ["Postgres", "Redis", "CurlHTTP", "Settings", "LocalServices", "ChildProcesses", "Storage", "ShopDomain", "JobQueue", "Intake", "MockPayments",
                "Worker", "Scheduler", "OpenRunGate", "ShopJobs", "BlockingThreads",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings),

        .executableTarget(
            name: "FastestShop",
            dependencies: [
                "Postgres", "Redis", "CurlHTTP", "Settings", "LocalServices", "ChildProcesses", "Storage", "ShopDomain", "JobQueue", "Bench",
                "Intake", "MockPayments", "Worker", "Scheduler", "OpenRunGate", "ShopJobs", "Observability", "MemoryAllocator",
                "TextEncodings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),

        // Unit tests: no database, no Redis, no network.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "ShopDomain", "Settings", "Postgres", "Redis", "JobQueue", "ShopJobs", "Worker", "CurlHTTP", "Observability",
                "Intake", "ChildProcesses", "Gzip", "MemoryAllocator", "BlockingThreads", "TextEncodings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        // Integration tests: real PostgreSQL, Redis and HTTP, started by scripts/services.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TextEncodings", "Postgres", "Redis", "CurlHTTP", "Settings", "LocalServices", "ChildProcesses", "Storage", "ShopDomain", "JobQueue",
                "ShopJobs", "Intake", "MockPayments", "Worker", "Scheduler", "OpenRunGate", "Gzip", "BlockingThreads",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
    ]
)
