import Postgres
import Synchronization
import Testing

/// The group-commit writer on a real PostgreSQL, with each failure policy: requests become rows
/// of a table whose CHECK refuses negative numbers (a bad request fails its whole statement).
@Suite struct GroupCommitWriterTests {
    static let policies: [GroupCommitFailurePolicy] = [.retryThenHalve(attempts: 3), .retryOnceThenEachAlone]

    static func makeTable(_ pool: PostgresPool) async throws {
        try await pool.query("CREATE TABLE committed (n bigint PRIMARY KEY CHECK (n >= 0), writer bigint NOT NULL)")
    }

    /// One statement for the batch, in a transaction (as the settlement and purchase bodies).
    static func insert(_ connection: PostgresConnection, _ requests: [Int], _ writer: Int) throws -> [Int] {
        try connection.transaction {
            try $0.query("INSERT INTO committed (n, writer) SELECT unnest($1::bigint[]), $2", [.intArray(requests), .int(writer)])
        }
        return requests
    }

    static func submitAll(_ writer: GroupCommitWriter<Int, Int>, _ requests: [Int]) async -> [Int: Result<Int, any Error>] {
        await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for request in requests {
                group.addTask {
                    do {
                        return (request, .success(try await writer.submit(request)))
                    } catch {
                        return (request, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Int, any Error>] = [:]
            for await (request, result) in group { results[request] = result }
            return results
        }
    }

    /// Bad requests among good ones, submitted at once so that batches mix them: each bad one
    /// gets its own error, every good one is committed and answered, by at most `writers` slots.
    @Test(arguments: policies)
    func aBadRequestFailsAloneAndTheOthersCommit(policy: GroupCommitFailurePolicy) async throws {
        try await withTestDatabase(poolSize: 3) { pool, _ in
            try await Self.makeTable(pool)
            let batches = Shared<[Int]>([])
            let writer = GroupCommitWriter<Int, Int>(
                pool: pool, maxBatch: 50, writers: 2, policy: policy, onBatch: { size in batches.value.withLock { $0.append(size) } },
                body: Self.insert)
            let requests = (0..<300).map { $0 % 60 == 30 ? -$0 : $0 }
            let results = await Self.submitAll(writer, requests)
            for request in requests {
                switch results[request] {
                case .success(let answer): #expect(request >= 0 && answer == request)
                case .failure(let error):
                    #expect(request < 0, "a good request failed: \(error)")
                    #expect((error as? PostgresError)?.code == .checkViolation)
                case nil: Issue.record("request \(request) was not answered")
                }
            }
            let rows = try await pool.query("SELECT count(*), coalesce(max(writer), 0), coalesce(min(writer), 0) FROM committed")[0]
            #expect(try rows.int(0) == requests.filter { $0 >= 0 }.count)
            #expect(try rows.int(1) < 2 && rows.int(2) >= 0, "writer slots are 0..<writers")
            #expect(batches.value.withLock { $0.reduce(0, +) } == requests.count, "every request went through one batch")
            await writer.close()
        }
    }

    /// A batch whose connection dies under it (here the batch's own backend is terminated, as
    /// by a server restart) is committed again on a fresh connection: its request gets no error.
    @Test(arguments: policies)
    func aConnectionLostUnderABatchIsRetriedOnAFreshOne(policy: GroupCommitFailurePolicy) async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await Self.makeTable(pool)
            let terminated = Shared(false)
            let writer = GroupCommitWriter<Int, Int>(pool: pool, maxBatch: 10, writers: 1, policy: policy) {
                connection, requests, slot in
                if !terminated.value.withLock({ terminated in
                    defer { terminated = true }
                    return terminated
                }) {
                    _ = try connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
                return try Self.insert(connection, requests, slot)
            }
            #expect(try await writer.submit(7) == 7)
            #expect(terminated.value.withLock { $0 })
            #expect(try await pool.query("SELECT count(*) FROM committed WHERE n = 7")[0].int(0) == 1)
            await writer.close()
        }
    }

    /// Closing answers everything accepted before it returns; later requests are refused.
    @Test func closeCommitsWhatWasAcceptedAndRefusesTheRest() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await Self.makeTable(pool)
            let writer = GroupCommitWriter<Int, Int>(pool: pool, maxBatch: 20, writers: 1, policy: .retryThenHalve(attempts: 3), body: Self.insert)
            let requests = Array(0..<300)
            async let results = Self.submitAll(writer, requests)
            // Close while requests are still arriving and committing.
            _ = try await eventually(every: .milliseconds(1)) {
                try await pool.query("SELECT count(*) FROM committed")[0].int(0) > 0
            }
            await writer.close()
            let committedAtClose = try await pool.query("SELECT count(*) FROM committed")[0].int(0)
            let answered = await results
            var accepted = 0
            var refused = 0
            for result in answered.values {
                switch result {
                case .success: accepted += 1
                case .failure(let error): if error is GroupCommitWriterClosed { refused += 1 }
                }
            }
            #expect(accepted + refused == requests.count, "every request committed or refused as closed")
            #expect(committedAtClose == accepted, "close returned only once every accepted request had committed")
            await #expect(throws: GroupCommitWriterClosed.self) { _ = try await writer.submit(1000) }
        }
    }
}

/// A value shared between a test and a writer's callbacks.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
