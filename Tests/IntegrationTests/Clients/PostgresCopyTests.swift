import Postgres
import Testing

/// COPY streams many rows in and out with nothing lost, reordered or altered.
@Suite struct PostgresCopyTests {
    static let rowCount = 100_000

    /// The COPY text of row `id`: an integer, non-ASCII text, and a value that needs escaping.
    static func line(_ id: Int) -> String {
        "\(id)\titem-\(id) 限定 😀\t\(id % 7 == 0 ? "\\N" : "note\\t\(id % 1000)")\n"
    }

    @Test func copiesAHundredThousandRowsInAndOut() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, note text)")
            let rowCount = Self.rowCount

            var expected = Checksum()
            for id in 0..<rowCount { expected.add(Array(Self.line(id).utf8)) }

            let copiedIn = try await pool.withConnection { connection in
                try connection.copyIn("COPY items (id, name, note) FROM STDIN") { writer in
                    for id in 0..<rowCount { try writer.write(Self.line(id)) }
                }
            }
            #expect(copiedIn == rowCount)

            // The server saw the values we meant, escapes decoded.
            let summary = try await pool.query(
                """
                SELECT count(*), sum(id), count(note), count(*) FILTER (WHERE note LIKE E'note\\t%'),
                       min(name), count(DISTINCT name)
                FROM items
                """)
            #expect(try summary[0].int(0) == rowCount)
            #expect(try summary[0].int(1) == rowCount * (rowCount - 1) / 2)
            let nulls = (rowCount + 6) / 7
            #expect(try summary[0].int(2) == rowCount - nulls)
            #expect(try summary[0].int(3) == rowCount - nulls)
            #expect(try summary[0].string(4) == "item-0 限定 😀")
            #expect(try summary[0].int(5) == rowCount)

            let (copiedOut, actual) = try await pool.withConnection { connection in
                var checksum = Checksum()
                let rows = try connection.copyOut("COPY (SELECT id, name, note FROM items ORDER BY id) TO STDOUT") { line in
                    checksum.add(line)
                }
                return (rows, checksum)
            }
            #expect(copiedOut == rowCount)
            #expect(actual.lines == rowCount)
            #expect(actual == expected)
        }
    }

    @Test func aBadRowFailsTheWholeCopy() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("CREATE TABLE numbers (n integer NOT NULL)")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try connection.copyIn("COPY numbers FROM STDIN") { writer in
                        for n in 0..<1000 { try writer.write("\(n)\n") }
                        try writer.write("not a number\n")
                    }
                }
            }
            #expect(error?.code == .invalidTextRepresentation)
            #expect(try await pool.query("SELECT count(*) FROM numbers")[0].int(0) == 0)
            // The connection left COPY state and works.
            #expect(try await pool.query("SELECT 7")[0].int(0) == 7)
        }
    }

    @Test func aProducerErrorAbortsTheCopy() async throws {
        struct ProducerFailed: Error {}
        try await withTestDatabase(poolSize: 1) { pool, _ in
            try await pool.query("CREATE TABLE numbers (n integer NOT NULL)")
            await #expect(throws: ProducerFailed.self) {
                try await pool.withConnection { connection in
                    try connection.copyIn("COPY numbers FROM STDIN") { writer in
                        for n in 0..<100_000 { try writer.write("\(n)\n") }
                        throw ProducerFailed()
                    }
                }
            }
            #expect(try await pool.query("SELECT count(*) FROM numbers")[0].int(0) == 0)
            #expect(try await pool.query("SELECT 7")[0].int(0) == 7)
        }
    }

    @Test func aConsumerErrorStillDrainsTheStream() async throws {
        struct ConsumerFailed: Error {}
        try await withTestDatabase(poolSize: 1) { pool, _ async throws in
            await #expect(throws: ConsumerFailed.self) {
                try await pool.withConnection { connection in
                    var seen = 0
                    try connection.copyOut("COPY (SELECT generate_series(1, 10000)) TO STDOUT") { _ in
                        seen += 1
                        if seen == 10 { throw ConsumerFailed() }
                    }
                }
            }
            // The rest of the stream was read off the wire: the connection is in sync.
            #expect(try await pool.query("SELECT 7")[0].int(0) == 7)
        }
    }

    @Test func copyOfANonCopyStatementIsRefused() async throws {
        try await withTestDatabase(poolSize: 1) { pool, _ async throws in
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try connection.copyIn("SELECT 1") { _ in }
                }
            }
            #expect(error?.code == .protocolViolation)
            let failing = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try connection.copyOut("COPY no_such_table TO STDOUT") { _ in }
                }
            }
            #expect(failing?.code == .undefinedTable)
            #expect(try await pool.query("SELECT 7")[0].int(0) == 7)
        }
    }
}

/// An order-sensitive digest of COPY lines (FNV-1a over the bytes, plus counts), so two streams
/// compare equal only when they carry the same lines in the same order.
struct Checksum: Equatable, Sendable {
    private(set) var lines = 0
    private(set) var bytes = 0
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ line: some Collection<UInt8>) {
        lines += 1
        bytes += line.count
        for byte in line {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
    }
}
