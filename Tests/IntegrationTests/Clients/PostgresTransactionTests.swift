import Postgres
import Testing

/// `transaction` commits all or nothing, and integrity errors arrive with their SQLSTATE and
/// constraint so callers can branch on them.
@Suite struct PostgresTransactionTests {
    struct Abandoned: Error {}

    @Test func aSwiftErrorRollsEverythingBack() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("CREATE TABLE ledger (id integer PRIMARY KEY, note text NOT NULL)")
            await #expect(throws: Abandoned.self) {
                try await pool.transaction { connection in
                    try connection.query("INSERT INTO ledger VALUES (1, 'first')")
                    try connection.query("INSERT INTO ledger VALUES (2, 'second')")
                    throw Abandoned()
                }
            }
            #expect(try await pool.query("SELECT count(*) FROM ledger")[0].int(0) == 0)
            try await expectIdleAndUsable(pool)
        }
    }

    @Test func aFailingStatementRollsEverythingBack() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("CREATE TABLE ledger (id integer PRIMARY KEY, note text NOT NULL)")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.query("INSERT INTO ledger VALUES (1, 'kept only if committed')")
                    try connection.query("INSERT INTO ledger VALUES (2, NULL)")
                }
            }
            #expect(error?.code == .notNullViolation)
            #expect(try await pool.query("SELECT count(*) FROM ledger")[0].int(0) == 0)
            try await expectIdleAndUsable(pool)

            // The same connection commits normally afterwards.
            _ = try await pool.transaction { connection in
                try connection.query("INSERT INTO ledger VALUES (3, 'committed')")
            }
            #expect(try await pool.query("SELECT note FROM ledger")[0].string(0) == "committed")
        }
    }

    @Test func aFailedCommitIsReportedAndNothingPersists() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query(
                """
                CREATE TABLE parent (id integer PRIMARY KEY);
                """)
            try await pool.query(
                """
                CREATE TABLE child (id integer PRIMARY KEY,
                    parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)
                """)
            // A deferred foreign key is only checked at COMMIT, so COMMIT itself fails.
            let error = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.query("INSERT INTO child VALUES (1, 42)")
                }
            }
            #expect(error?.code == .foreignKeyViolation)
            #expect(error?.constraint == "child_parent_id_fkey")
            #expect(try await pool.query("SELECT count(*) FROM child")[0].int(0) == 0)
            try await expectIdleAndUsable(pool)
        }
    }

    @Test func isolationLevelIsApplied() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            let level = try await pool.transaction(isolation: .serializable) { connection in
                try connection.query("SHOW transaction_isolation")[0].string(0)
            }
            #expect(level == "serializable")
            let repeatable = try await pool.transaction(isolation: .repeatableRead) { connection in
                try connection.query("SHOW transaction_isolation")[0].string(0)
            }
            #expect(repeatable == "repeatable read")
        }
    }

    @Test func uniqueViolationNamesItsConstraint() async throws {
        try await withTestDatabase { pool, _ in
            // The schema's own unique index on users.email.
            let insert = "INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'customer')"
            try await pool.query(insert, [.text("ada@example.com")])
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query(insert, [.text("ada@example.com")])
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.constraint == "users_email_key")
            #expect(error?.detail?.contains("ada@example.com") == true)
            #expect(error?.isTransient == false)
            // The description is safe to log: it names the constraint, never the parameters.
            #expect(error?.description.contains("users_email_key") == true)
            #expect(error?.description.contains("ada@example.com") == false)

            // A named table constraint, inside a transaction.
            try await pool.query("CREATE TABLE tickets (code text, CONSTRAINT tickets_code_unique UNIQUE (code))")
            let second = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try connection.query("INSERT INTO tickets VALUES ('A'), ('B')")
                    try connection.query("INSERT INTO tickets VALUES ('A')")
                }
            }
            #expect(second?.code == .uniqueViolation)
            #expect(second?.constraint == "tickets_code_unique")
            #expect(try await pool.query("SELECT count(*) FROM tickets")[0].int(0) == 0)
        }
    }

    @Test func otherServerErrorsCarryTheirCodes() async throws {
        try await withTestDatabase { pool, _ in
            let syntax = await #expect(throws: PostgresError.self) { try await pool.query("SELEC 1") }
            #expect(syntax?.code == .syntaxError)
            let table = await #expect(throws: PostgresError.self) { try await pool.query("SELECT * FROM no_such_table") }
            #expect(table?.code == .undefinedTable)
            let text = await #expect(throws: PostgresError.self) { try await pool.query("SELECT $1::integer", [.text("12x")]) }
            #expect(text?.code == .invalidTextRepresentation)
            let check = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO products (name, price_cents, currency) VALUES ('p', -1, 'EUR')")
            }
            #expect(check?.code == .checkViolation)
            #expect(check?.constraint == "products_price_cents_check")
        }
    }

    /// The connection is back outside any transaction and answers.
    private func expectIdleAndUsable(_ pool: PostgresPool) async throws {
        let rows = try await pool.query("SELECT txid_current_if_assigned() IS NULL, 1 + 1")
        #expect(try rows[0].bool(0), "a transaction was left open on the connection")
        #expect(try rows[0].int(1) == 2)
    }
}
