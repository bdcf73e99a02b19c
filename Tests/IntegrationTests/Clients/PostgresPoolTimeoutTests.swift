import Postgres
import Testing

/// A wait for a pooled connection is bounded: a caller still waiting after the pool's acquire
/// timeout fails with `poolTimeout` (serve answers 503), and the callers that gave up leave the
/// pool as it was.
@Suite struct PostgresPoolTimeoutTests {
    @Test func waitersOfABusyPoolFailAfterTheAcquireTimeoutAndThePoolStillServes() async throws {
        try await withTestDatabase { _, configuration in
            let pool = PostgresPool(configuration: configuration, size: 1, name: "busy", acquireTimeout: .milliseconds(200))
            let sleep = "SELECT pg_sleep(60)"
            let busy = Task { try await pool.query(sleep) }
            try #require(try await PostgresPoolTests.queryIsRunning(sleep, configuration))

            // The only connection stays busy for a minute: every one of these can only wait, and
            // each wait must end in the timeout (without one they would all wait the minute out).
            let codes = await withTaskGroup(of: PostgresError.Code?.self) { group in
                for _ in 0..<20 { group.addTask { await Task { try await pool.query("SELECT 1") }.result.postgresErrorCode } }
                var codes: [PostgresError.Code?] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(codes.count == 20)
            #expect(codes.allSatisfy { $0 == .poolTimeout }, "\(codes)")

            // The callers that gave up took nothing with them: once the connection is free again
            // the next caller gets it.
            busy.cancel()
            #expect(await busy.result.postgresErrorCode == .queryCanceled)
            #expect(try await pool.query("SELECT 41 + 1")[0].int(0) == 42)
            await pool.shutdown()
        }
    }
}
