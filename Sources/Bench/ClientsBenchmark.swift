import Foundation
import Postgres
import Redis

/// `bench clients`: our hiredis and libpq clients against the reference tools, on the same
/// servers, in the same run, with the same work.
///
/// - Redis: `SET key:__rand_int__ xxx` (the exact command `redis-benchmark -t set` sends),
///   `connections` connections each keeping one pipeline of `pipelineDepth` commands in flight,
///   `redisRequests` commands in all; ours through ``RedisClient/pipeline(_:)``, one client per
///   connection.
/// - PostgreSQL: `COPY … FROM STDIN` of `copyRows` generated rows into a fresh table; ours
///   through ``PostgresConnection/copyIn(_:_:)`` generating the rows as it sends them, the
///   reference `psql \copy` of the same bytes from a file (written beforehand, not timed; psql's
///   start-up and connection are timed, a few milliseconds).
///
/// Each measurement runs `rounds` times, alternating which side goes first; the result keeps
/// the best round of each side (throughput on a shared machine is only ever lowered by noise)
/// and every sample.
public struct ClientsBenchmark: Sendable {
    public struct Parameters: Sendable, Codable {
        public var pipelineDepth: Int
        public var connections: Int
        public var redisRequests: Int
        public var copyRows: Int
        public var rounds: Int

        public init(pipelineDepth: Int = 16, connections: Int = 2, redisRequests: Int = 1_000_000, copyRows: Int = 1_000_000, rounds: Int = 3) {
            self.pipelineDepth = pipelineDepth
            self.connections = connections
            self.redisRequests = redisRequests
            self.copyRows = copyRows
            self.rounds = rounds
        }
    }

    /// One JSON object: the four rates, the two ratios (ours / reference), the parameters and
    /// the per-round samples.
    public struct Result: Sendable, Codable {
        public var redisPipelinedOpsPerSecond: Double
        public var redisBenchmarkOpsPerSecond: Double
        public var redisRatio: Double
        public var pgCopyInRowsPerSecond: Double
        public var psqlCopyInRowsPerSecond: Double
        public var pgCopyRatio: Double
        public var redisPipelineDepth: Int
        public var redisConnections: Int
        public var redisRequests: Int
        public var copyRows: Int
        public var rounds: Int
        public var samples: Samples

        public struct Samples: Sendable, Codable {
            public var redisPipelinedOpsPerSecond: [Double] = []
            public var redisBenchmarkOpsPerSecond: [Double] = []
            public var pgCopyInRowsPerSecond: [Double] = []
            public var psqlCopyInRowsPerSecond: [Double] = []

            func rounded() -> Samples {
                Samples(
                    redisPipelinedOpsPerSecond: redisPipelinedOpsPerSecond.map { $0.rounded() },
                    redisBenchmarkOpsPerSecond: redisBenchmarkOpsPerSecond.map { $0.rounded() },
                    pgCopyInRowsPerSecond: pgCopyInRowsPerSecond.map { $0.rounded() },
                    psqlCopyInRowsPerSecond: psqlCopyInRowsPerSecond.map { $0.rounded() })
            }

            enum CodingKeys: String, CodingKey {
                case redisPipelinedOpsPerSecond = "redis_pipelined_ops_per_s"
                case redisBenchmarkOpsPerSecond = "redis_benchmark_ops_per_s"
                case pgCopyInRowsPerSecond = "pg_copy_in_rows_per_s"
                case psqlCopyInRowsPerSecond = "psql_copy_in_rows_per_s"
            }
        }

        enum CodingKeys: String, CodingKey {
            case redisPipelinedOpsPerSecond = "redis_pipelined_ops_per_s"
            case redisBenchmarkOpsPerSecond = "redis_benchmark_ops_per_s"
            case redisRatio = "redis_ratio"
            case pgCopyInRowsPerSecond = "pg_copy_in_rows_per_s"
            case psqlCopyInRowsPerSecond = "psql_copy_in_rows_per_s"
            case pgCopyRatio = "pg_copy_ratio"
            case redisPipelineDepth = "redis_pipeline_depth"
            case redisConnections = "redis_connections"
            case redisRequests = "redis_requests"
            case copyRows = "copy_rows"
            case rounds
            case samples
        }
    }

    public let postgres: PostgresConfiguration
    public let redis: RedisConfiguration
    public let parameters: Parameters
    /// Progress lines (to stderr in the command; stdout carries only the result).
    public let log: @Sendable (String) -> Void

    public init(
        postgres: PostgresConfiguration,
        redis: RedisConfiguration,
        parameters: Parameters = Parameters(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.postgres = postgres
        self.redis = redis
        self.parameters = parameters
        self.log = log
    }

    public func run() async throws -> Result {
        guard parameters.pipelineDepth > 0, parameters.connections > 0, parameters.redisRequests > 0,
            parameters.copyRows > 0, parameters.rounds > 0
        else { throw BenchmarkError("every parameter must be positive") }
        let redisBenchmark = try ReferenceTool.find("redis-benchmark")
        let psql = try ReferenceTool.find("psql", extraDirectories: ["/usr/lib/postgresql/*/bin"])

        var samples = Result.Samples()
        // A server with a password: redis-benchmark authenticates as a throwaway user instead.
        let user = redis.password == nil ? nil : try await BenchmarkUser.create(on: redis)
        do {
            for round in 0..<parameters.rounds {
                // Alternate who goes first, so neither side always runs on a warmer (or busier) server.
                let referenceFirst = round % 2 == 1
                if referenceFirst { samples.redisBenchmarkOpsPerSecond.append(try measureRedisBenchmark(redisBenchmark, user: user)) }
                samples.redisPipelinedOpsPerSecond.append(try await measureRedisClient())
                if !referenceFirst { samples.redisBenchmarkOpsPerSecond.append(try measureRedisBenchmark(redisBenchmark, user: user)) }
                log(
                    "round \(round + 1): redis ours \(Int(samples.redisPipelinedOpsPerSecond.last!)) ops/s, redis-benchmark \(Int(samples.redisBenchmarkOpsPerSecond.last!)) ops/s"
                )
            }
        } catch {
            try? await user?.delete(on: redis)
            throw error
        }
        try await user?.delete(on: redis)
        try await deleteBenchmarkKey()

        let rowsFile = try writeCopyFile()
        defer { try? FileManager.default.removeItem(atPath: rowsFile) }
        let pool = PostgresPool(configuration: postgres, size: 1, name: "bench-copy")
        do {
            for round in 0..<parameters.rounds {
                let referenceFirst = round % 2 == 1
                if referenceFirst { samples.psqlCopyInRowsPerSecond.append(try await measurePsqlCopy(psql, rowsFile, pool)) }
                samples.pgCopyInRowsPerSecond.append(try await measureClientCopy(pool))
                if !referenceFirst { samples.psqlCopyInRowsPerSecond.append(try await measurePsqlCopy(psql, rowsFile, pool)) }
                log(
                    "round \(round + 1): COPY ours \(Int(samples.pgCopyInRowsPerSecond.last!)) rows/s, psql \\copy \(Int(samples.psqlCopyInRowsPerSecond.last!)) rows/s"
                )
            }
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw error
        }

        let redisOurs = samples.redisPipelinedOpsPerSecond.max()!
        let redisReference = samples.redisBenchmarkOpsPerSecond.max()!
        let copyOurs = samples.pgCopyInRowsPerSecond.max()!
        let copyReference = samples.psqlCopyInRowsPerSecond.max()!
        return Result(
            redisPipelinedOpsPerSecond: redisOurs.rounded(),
            redisBenchmarkOpsPerSecond: redisReference.rounded(),
            redisRatio: (redisOurs / redisReference * 1000).rounded() / 1000,
            pgCopyInRowsPerSecond: copyOurs.rounded(),
            psqlCopyInRowsPerSecond: copyReference.rounded(),
            pgCopyRatio: (copyOurs / copyReference * 1000).rounded() / 1000,
            redisPipelineDepth: parameters.pipelineDepth,
            redisConnections: parameters.connections,
            redisRequests: parameters.redisRequests,
            copyRows: parameters.copyRows,
            rounds: parameters.rounds,
            samples: samples.rounded())
    }

    // MARK: Redis

    /// The key and value `redis-benchmark -t set` uses (no `-r`, so the key is literal).
    static let benchmarkKey = "key:__rand_int__"

    func measureRedisClient() async throws -> Double {
        let clients = (0..<parameters.connections).map {
            RedisClient(configuration: redis, connections: 1, name: "bench-redis-\($0)")
        }
        defer { for client in clients { client.shutdown() } }
        // Connect before the clock starts.
        for client in clients { try await client.execute("PING") }

        let depth = parameters.pipelineDepth
        let shares = split(parameters.redisRequests, into: clients.count)
        let started = ContinuousClock.now
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for (client, share) in zip(clients, shares) {
                group.addTask {
                    let full = Array(repeating: RedisCommand("SET", Self.benchmarkKey, "xxx"), count: depth)
                    var remaining = share
                    var wrong = 0
                    while remaining > 0 {
                        let batch = remaining >= depth ? full : Array(full.prefix(remaining))
                        for reply in try await client.pipeline(batch) where reply != .status("OK") { wrong += 1 }
                        remaining -= batch.count
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = (ContinuousClock.now - started).seconds
        guard wrong == 0 else { throw BenchmarkError("\(wrong) SET replies were not OK") }
        return Double(parameters.redisRequests) / seconds
    }

    /// `user`: the throwaway account of a server with a password (``BenchmarkUser``); the
    /// deployment's own password is never on redis-benchmark's command line.
    func measureRedisBenchmark(_ tool: ReferenceTool, user: BenchmarkUser?) throws -> Double {
        var arguments = ["-h", redis.host, "-p", String(redis.port)]
        if let user { arguments += user.arguments }
        arguments += [
            "-t", "set", "-P", String(parameters.pipelineDepth), "-c", String(parameters.connections),
            "-n", String(parameters.redisRequests), "--csv",
        ]
        let output = try tool.run(arguments)
        // "test","rps",…  then  "SET","595238.12",…
        for line in output.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count >= 2, fields[0] == "SET", let rate = Double(fields[1]) { return rate }
        }
        throw BenchmarkError("cannot read the SET rate from redis-benchmark's output: \(output)")
    }

    private func deleteBenchmarkKey() async throws {
        let client = RedisClient(configuration: redis, name: "bench-redis-cleanup")
        defer { client.shutdown() }
        try await client.execute("DEL", Self.benchmarkKey)
    }

    // MARK: PostgreSQL COPY

    /// Row `id` of the COPY data: `id, name, quantity, note`, tab-separated, as COPY text.
    static func appendRow(_ id: Int, to buffer: inout [UInt8]) {
        appendDecimal(id, to: &buffer)
        buffer.append(9)
        buffer.append(contentsOf: "customer-".utf8)
        appendDecimal(id, to: &buffer)
        buffer.append(9)
        appendDecimal(id % 1000, to: &buffer)
        buffer.append(9)
        buffer.append(contentsOf: "limited drop entry, paid".utf8)
        buffer.append(10)
    }

    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0)
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[19 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            buffer.append(contentsOf: scratch[(20 - count)...])
        }
    }

    static let tableDefinition = "(id bigint NOT NULL, name text NOT NULL, quantity integer NOT NULL, note text)"

    private func freshTable(_ pool: PostgresPool, _ side: String) async throws -> String {
        let table = "bench_clients_\(side)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE TABLE \(table) \(Self.tableDefinition)")
        return table
    }

    /// Checks what arrived and drops the table.
    private func finish(_ table: String, _ pool: PostgresPool) async throws {
        let count = try await pool.query("SELECT count(*) FROM \(table)")[0].int(0)
        try await pool.query("DROP TABLE \(table)")
        guard count == parameters.copyRows else {
            throw BenchmarkError("\(table) holds \(count) rows, expected \(parameters.copyRows)")
        }
    }

    func measureClientCopy(_ pool: PostgresPool) async throws -> Double {
        let table = try await freshTable(pool, "ours")
        let rows = parameters.copyRows
        let started = ContinuousClock.now
        let copied = try await pool.withConnection { connection in
            try connection.copyIn("COPY \(table) (id, name, quantity, note) FROM STDIN") { writer in
                var line: [UInt8] = []
                line.reserveCapacity(128)
                for id in 0..<rows {
                    line.removeAll(keepingCapacity: true)
                    Self.appendRow(id, to: &line)
                    try writer.write(line)
                }
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        try await finish(table, pool)
        guard copied == rows else { throw BenchmarkError("COPY reported \(copied) rows, expected \(rows)") }
        return Double(rows) / seconds
    }

    func measurePsqlCopy(_ psql: ReferenceTool, _ rowsFile: String, _ pool: PostgresPool) async throws -> Double {
        let table = try await freshTable(pool, "psql")
        var arguments = [
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", postgres.host, "-p", String(postgres.port), "-U", postgres.user, "-d", postgres.database,
        ]
        arguments += ["-c", "\\copy \(table) (id, name, quantity, note) FROM '\(rowsFile)'"]
        let environment = postgres.password.map { ["PGPASSWORD": $0] } ?? [:]
        let started = ContinuousClock.now
        _ = try psql.run(arguments, environment: environment)
        let seconds = (ContinuousClock.now - started).seconds
        try await finish(table, pool)
        return Double(parameters.copyRows) / seconds
    }

    /// The same rows as ``measureClientCopy(_:)`` sends, as a file for `psql \copy`.
    private func writeCopyFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fastest-shop-bench-\(getpid()).copy").path
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parameters.copyRows * 64)
        for id in 0..<parameters.copyRows { Self.appendRow(id, to: &bytes) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw BenchmarkError("cannot write \(path)")
        }
        return path
    }

    private func split(_ total: Int, into parts: Int) -> [Int] {
        (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
