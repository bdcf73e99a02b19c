import ArgumentParser
import Bench
import Foundation
import MemoryAllocator
import Settings

/// `fastest-shop bench SCENARIO`: one subcommand per scenario. A scenario prints progress on
/// stderr and, with `--json`, exactly one JSON object on stdout.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark scenarios (--json prints one JSON object on stdout).",
        subcommands: [
            Clients.self,
            BenchQueue.self,
            BenchIntake.self,
            BenchCache.self,
            BenchDraw.self,
            BenchPayments.self,
            BenchOpenRun.self,
            BenchFailover.self,
            BenchFlood.self,
        ])
}

/// Options every scenario shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print the result as one JSON object on stdout.")
    var json = false

    /// Writes a progress line to stderr, keeping stdout for the result.
    func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }

    /// Prints the result: one JSON object, or the same indented for reading.
    func report(_ result: some Encodable) throws {
        try report(result) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            return (try? String(decoding: encoder.encode(result), as: UTF8.self)) ?? ""
        }
    }

    /// Prints the result: JSON (sorted keys, one object) or `summary`.
    func report(_ result: some Encodable, summary: () -> String) throws {
        // Figures depend on it (docs/benchmarks.md), so every report says which one ran.
        FileHandle.standardError.write(Data("allocator: \(MemoryAllocator.name)\n".utf8))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(summary())
        }
    }
}

extension Bench {
    struct Clients: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Our hiredis and libpq clients against redis-benchmark and psql \\copy.",
            discussion: """
                Starts the project's local PostgreSQL and Redis when no location is configured.
                Build with `swift build -c release` for meaningful numbers.
                """)

        @OptionGroup var settings: SettingsOptions
        @OptionGroup var bench: BenchOptions

        @Option(help: "Commands in flight per Redis connection (redis-benchmark -P).")
        var depth = 16
        // Defaults to the connections a process of ours opens (redis.connections): the client
        // runs one thread per connection, so that is the configuration worth comparing.
        @Option(help: "Redis connections (redis-benchmark -c); default: the redis.connections setting.")
        var connections: Int?
        @Option(help: "SET commands in all (redis-benchmark -n).")
        var requests = 1_000_000
        @Option(help: "Rows copied into PostgreSQL per measurement.")
        var rows = 1_000_000
        @Option(help: "Rounds per measurement; the best round of each side is reported.")
        var rounds = 3

        func run() async throws {
            let settings = try await settings.loadStartingLocalServices()
            let benchmark = ClientsBenchmark(
                postgres: settings.postgresConfiguration,
                redis: settings.redisConfiguration,
                parameters: .init(
                    pipelineDepth: depth, connections: connections ?? settings.redis.connections,
                    redisRequests: requests, copyRows: rows, rounds: rounds),
                log: { [bench] in bench.progress($0) })
            let result: ClientsBenchmark.Result
            do {
                result = try await benchmark.run()
            } catch let error as BenchmarkError {
                throw CommandFailure(message: "bench clients: \(error)")
            }
            try bench.report(result) {
                """
                Redis SET, depth \(result.redisPipelineDepth), \(result.redisConnections) connections, \(result.redisRequests) commands:
                  ours            \(Int(result.redisPipelinedOpsPerSecond)) ops/s
                  redis-benchmark \(Int(result.redisBenchmarkOpsPerSecond)) ops/s   ratio \(result.redisRatio)
                PostgreSQL COPY IN, \(result.copyRows) rows:
                  ours            \(Int(result.pgCopyInRowsPerSecond)) rows/s
                  psql \\copy      \(Int(result.psqlCopyInRowsPerSecond)) rows/s   ratio \(result.pgCopyRatio)
                """
            }
        }
    }
}
