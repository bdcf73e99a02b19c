import LocalServices
import Postgres
import Testing

/// A PostgreSQL restart breaks the connections it had; the pool reports that clearly and
/// reconnects by itself. Runs against a scratch server so the shared one is never disturbed.
@Suite struct PostgresRestartTests {
    @Test func inFlightCallFailsAndTheNextCallReconnects() async throws {
        try await withScratchServices { scratch in
            let pool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "restart")
            let observer = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "restart-observer")
            let before = try await pool.query("SELECT pg_backend_pid()")[0].int(0)

            let sleep = "SELECT pg_sleep(60)"
            let inFlight = Task { try await pool.query(sleep) }
            let running = try await eventually {
                try await observer.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = $1", [.text(sleep)]
                )[0].int(0) == 1
            }
            try #require(running)
            await observer.shutdown()

            try await scratch.restart(.postgres)

            let interrupted = await inFlight.result
            #expect(interrupted.postgresErrorCode == .connectionFailure, "got \(interrupted)")
            // The broken connection was dropped: the next call gets a new session and works.
            let after = try await pool.query("SELECT pg_backend_pid()")[0].int(0)
            #expect(after != before)
            #expect(try await pool.query("SELECT 40 + 2")[0].int(0) == 42)
            await pool.shutdown()
        }
    }

    @Test func idleConnectionsAreReplacedAfterARestart() async throws {
        try await withScratchServices { scratch in
            let pool = PostgresPool(configuration: scratch.postgresConfiguration, size: 2, name: "restart-idle")
            try await pool.query("CREATE TABLE survivors (n integer)")
            try await pool.query("INSERT INTO survivors VALUES (1), (2), (3)")
            // Open both connections.
            async let first = pool.query("SELECT pg_sleep(0.05)")
            async let second = pool.query("SELECT pg_sleep(0.05)")
            _ = try await (first, second)

            try await scratch.restart(.postgres)

            // Each idle connection either notices the restart before use (and is replaced
            // silently) or fails its call with connectionFailure; never anything else, and the
            // call after a failure works.
            var failures = 0
            for _ in 0..<(2 * pool.size) {
                do {
                    #expect(try await pool.query("SELECT sum(n) FROM survivors")[0].int(0) == 6)
                } catch let error as PostgresError {
                    #expect(error.code == .connectionFailure, "got \(error)")
                    failures += 1
                }
            }
            #expect(failures <= pool.size)
            #expect(try await pool.query("SELECT sum(n) FROM survivors")[0].int(0) == 6)
            await pool.shutdown()
        }
    }

    @Test func callsWhileTheServerIsDownFailAndRecoverWhenItIsBack() async throws {
        try await withScratchServices { scratch in
            let pool = PostgresPool(configuration: scratch.postgresConfiguration, size: 1, name: "outage")
            #expect(try await pool.query("SELECT 1")[0].int(0) == 1)

            try await runBlocking { try scratch.services.stopOnly(.postgres) }
            for _ in 0..<2 {
                let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
                #expect(error?.code == .connectionFailure)
            }

            _ = try await runBlocking { try scratch.services.start() }
            #expect(try await pool.query("SELECT 1")[0].int(0) == 1)
            await pool.shutdown()
        }
    }
}
