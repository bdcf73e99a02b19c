import Postgres
import Testing

/// The pool serves any number of concurrent callers with its fixed set of connections.
@Suite struct PostgresPoolTests {
    /// Whether `query` runs (active, in this database) on the server: seen from a connection of
    /// its own, waited for until it does.
    static func queryIsRunning(_ query: String, _ configuration: PostgresConfiguration) async throws -> Bool {
        let observer = PostgresPool(configuration: configuration, size: 1, name: "observer")
        let running = try await eventually {
            try await observer.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND query = $1 AND state = 'active'
                """, [.text(query)])[0].int(0) == 1
        }
        await observer.shutdown()
        return running
    }

    @Test func moreCallersThanConnectionsAllComplete() async throws {
        try await withTestDatabase(poolSize: 3) { pool, _ in
            let callers = 120
            let answers = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        let rows = try await pool.query(
                            "SELECT $1::integer * 2, pg_backend_pid() FROM pg_sleep(0.002)", [.int(caller)])
                        return (caller, try rows[0].int(0), try rows[0].int(1))
                    }
                }
                var answers: [(Int, Int, Int)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(answers.count == callers)
            // Every caller got its own answer, not a neighbour's.
            #expect(answers.allSatisfy { $0.1 == $0.0 * 2 })
            #expect(Set(answers.map(\.0)).count == callers)
            // …through no more than the pool's connections.
            let backends = Set(answers.map(\.2))
            #expect(backends.count <= pool.size)
        }
    }

    @Test func transactionsOfConcurrentCallersDoNotInterleave() async throws {
        try await withTestDatabase(poolSize: 4) { pool, _ in
            try await pool.query("CREATE TABLE counter (id integer PRIMARY KEY, value integer NOT NULL)")
            try await pool.query("INSERT INTO counter VALUES (1, 0)")
            let increments = 200
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<increments {
                    group.addTask {
                        try await pool.transaction { connection in
                            let current = try connection.query("SELECT value FROM counter WHERE id = 1 FOR UPDATE")[0].int(0)
                            try connection.query("UPDATE counter SET value = $1 WHERE id = 1", [.int(current + 1)])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.query("SELECT value FROM counter")[0].int(0) == increments)
        }
    }

    @Test func shutdownFailsWaitingAndLaterCallers() async throws {
        try await withTestDatabase { _, configuration in
            let pool = PostgresPool(configuration: configuration, size: 1, name: "closing")
            let sleep = "SELECT pg_sleep(30)"
            let busy = Task { try await pool.query(sleep) }
            try #require(try await PostgresPoolTests.queryIsRunning(sleep, configuration))

            // The only connection stays busy throughout: this caller can only wait, and the
            // shutdown must fail it rather than leave it waiting.
            let waiting = Task { try await pool.query("SELECT 1") }
            let closing = Task { await pool.shutdown() }
            #expect(await waiting.result.postgresErrorCode == .poolClosed)
            let later = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(later?.code == .poolClosed)

            // Shutdown waits for the running statement; end it.
            busy.cancel()
            #expect(await busy.result.postgresErrorCode == .queryCanceled)
            await closing.value
        }
    }

    @Test func unreachableServerFailsWithConnectionFailure() async throws {
        try await withTestDatabase { _, configuration in
            var wrong = configuration
            wrong.database = "no_such_database_\(UInt32.random(in: 0...UInt32.max))"
            let pool = PostgresPool(configuration: wrong, size: 1, name: "wrong")
            let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(error?.code == .connectionFailure)
            #expect(error?.message.contains(wrong.database) == true)
            await pool.shutdown()
        }
    }
}
