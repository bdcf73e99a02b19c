import BlockingThreads
import LocalServices
import Postgres
import Synchronization
import Testing

/// A statement that runs too long ends with `queryCanceled`, whether the server's statement
/// timeout or the caller's task cancellation stopped it, and the connection stays usable.
@Suite struct PostgresCancellationTests {
    @Test func statementTimeoutCancelsTheStatement() async throws {
        try await withTestDatabase { _, configuration async throws in
            var limited = configuration
            limited.statementTimeoutMilliseconds = 200
            let pool = PostgresPool(configuration: limited, size: 1, name: "timeout")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("SELECT pg_sleep(20)")
            }
            #expect(error?.code == .queryCanceled)
            #expect(error?.message.contains("statement timeout") == true)
            #expect(try await pool.query("SHOW statement_timeout")[0].string(0) == "200ms")
            #expect(try await pool.query("SELECT 1")[0].int(0) == 1)
            await pool.shutdown()
        }
    }

    @Test func cancellingTheTaskCancelsTheRunningStatement() async throws {
        try await withTestDatabase(poolSize: 1) { pool, configuration in
            let observer = PostgresPool(configuration: configuration, size: 1, name: "observer")
            let sleep = "SELECT pg_sleep(30)"
            let sleeper = Task { try await pool.query(sleep) }
            try await waitUntilRunning(sleep, observer)
            sleeper.cancel()
            let result = await sleeper.result
            #expect(throws: PostgresError.self) { try result.get() }
            #expect(result.postgresErrorCode == .queryCanceled)
            // The connection that ran the statement is fine afterwards.
            #expect(try await pool.query("SELECT 2")[0].int(0) == 2)
            await observer.shutdown()
        }
    }

    @Test func cancellingATaskWhoseServerHangsReturnsWithoutWaitingForTheServer() async throws {
        // PQcancel waits for the server's answer. Run inline where the task is cancelled (one of
        // the cooperative pool's few threads), it held that thread for as long as the server
        // hung: two of them once stopped every task of a test run, the one that would have
        // woken the server included.
        try await withScratchServices { scratch in
            let pool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "hung-cancel")
            let observer = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "hung-observer")
            let sleep = "SELECT pg_sleep(30)"
            let sleeper = Task { try await pool.query(sleep) }
            try await waitUntilRunning(sleep, observer)
            try scratch.freeze(.postgres)
            defer { try? scratch.thaw(.postgres) }
            let cancelReturned = Atomic<Bool>(false)
            DetachedThread.run(name: "test-cancel") {
                sleeper.cancel()
                cancelReturned.store(true, ordering: .sequentiallyConsistent)
            }
            let returned = try await eventually(within: 20) { cancelReturned.load(ordering: .sequentiallyConsistent) }
            #expect(returned, "cancelling the task waited for the hung server")
            try scratch.thaw(.postgres)
            _ = await sleeper.result
            await observer.shutdown()
            await pool.shutdown()
        }
    }

    @Test func cancellingATransactionRollsItBack() async throws {
        try await withTestDatabase(poolSize: 1) { pool, configuration in
            let observer = PostgresPool(configuration: configuration, size: 1, name: "observer")
            try await pool.query("CREATE TABLE marks (n integer)")
            let sleep = "SELECT pg_sleep(30)"
            let writer = Task {
                try await pool.transaction { connection in
                    try connection.query("INSERT INTO marks VALUES (1)")
                    try connection.query(sleep)
                    try connection.query("INSERT INTO marks VALUES (2)")
                }
            }
            try await waitUntilRunning(sleep, observer)
            writer.cancel()
            let result = await writer.result
            #expect(result.postgresErrorCode == .queryCanceled)
            #expect(try await pool.query("SELECT count(*) FROM marks")[0].int(0) == 0)
            #expect(try await pool.query("SELECT txid_current_if_assigned() IS NULL")[0].bool(0))
            await observer.shutdown()
        }
    }

    @Test func aCallerCancelledWhileWaitingForAConnectionRunsNothing() async throws {
        try await withTestDatabase(poolSize: 1) { pool, configuration in
            let observer = PostgresPool(configuration: configuration, size: 1, name: "observer")
            try await pool.query("CREATE TABLE marks (n integer)")
            let sleep = "SELECT pg_sleep(30)"
            let busy = Task { try await pool.query(sleep) }
            try await waitUntilRunning(sleep, observer)
            await observer.shutdown()

            // The only connection is busy: this caller waits, and is cancelled while it waits
            // (or before it even asks; either way it must not write).
            let writer = Task { try await pool.query("INSERT INTO marks VALUES (1)") }
            writer.cancel()
            busy.cancel()
            #expect(await busy.result.postgresErrorCode == .queryCanceled)
            #expect(await writer.result.postgresErrorCode == .queryCanceled)
            #expect(try await pool.query("SELECT count(*) FROM marks")[0].int(0) == 0)
        }
    }

    @Test func cancellerWithoutARunningStatementIsHarmless() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let answer = try await pool.withConnection { connection in
                connection.canceller.cancelCurrentStatement()
                return try connection.query("SELECT 3")[0].int(0)
            }
            #expect(answer == 3)
        }
    }

    /// Waits until the server shows `sql` running in this test's own database (every test has
    /// a database of its own, so no other test's statement can match).
    private func waitUntilRunning(_ sql: String, _ observer: PostgresPool) async throws {
        let running = try await eventually {
            let rows = try await observer.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query = $1
                """, [.text(sql)])
            return try rows[0].int(0) == 1
        }
        try #require(running, "\(sql) never showed up in pg_stat_activity")
    }
}

extension Result {
    var postgresErrorCode: PostgresError.Code? {
        if case .failure(let error) = self { return (error as? PostgresError)?.code }
        return nil
    }
}
