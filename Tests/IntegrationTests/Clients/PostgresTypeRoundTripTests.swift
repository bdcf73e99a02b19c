import Foundation
import Postgres
import Testing

/// Every parameter and decoder type survives a trip through the server unchanged, and NULL of
/// every type is NULL again.
@Suite struct PostgresTypeRoundTripTests {
    static let texts = [
        "",
        "plain ASCII",
        "emoji 😀🛒🎟️ and flags 🇯🇵🇫🇷",
        "CJK 限定販売 한정 판매 抽選",
        "combining é vs é, RTL שלום, Ω≈ç√∫",
        "quotes ' \" and backslash \\ tab\tnewline\ncarriage\r",
        String(repeating: "長い", count: 10_000),
    ]

    @Test(arguments: texts)
    func textRoundTrips(_ text: String) async throws {
        try await withTestDatabase { pool, _ in
            let rows = try await pool.query(
                "SELECT $1::text, length($1::text), octet_length($1::text)", [.text(text)])
            #expect(try rows[0].string(0) == text)
            #expect(try rows[0].int(1) == text.unicodeScalars.count)
            #expect(try rows[0].int(2) == text.utf8.count)
        }
    }

    @Test func integersRoundTripAtTheirLimits() async throws {
        try await withTestDatabase { pool, _ in
            let integers = [0, 1, -1, Int(Int32.max), Int(Int32.min)]
            for value in integers {
                let rows = try await pool.query("SELECT $1::integer", [.int(value)])
                #expect(try rows[0].int(0) == value)
            }
            let bigints = [Int.max, Int.min, Int.min + 1, 1 << 53 + 1]
            for value in bigints {
                let rows = try await pool.query("SELECT $1::bigint, $1::bigint::text", [.int(value)])
                #expect(try rows[0].int(0) == value)
                #expect(try rows[0].string(1) == String(value))
            }
            let fromInt64 = try await pool.query("SELECT $1::bigint", [.int(Int64(-42))])
            #expect(try fromInt64[0].int(0) == -42)
            // Values beyond Int are refused, not wrapped.
            let beyond = try await pool.query("SELECT 9223372036854775808::numeric, -9223372036854775809::numeric, 1.5::numeric")
            for column in 0..<3 {
                let error = #expect(throws: PostgresError.self) { try beyond[0].int(column) }
                #expect(error?.code == .decoding)
            }
        }
    }

    @Test func booleansRoundTrip() async throws {
        try await withTestDatabase { pool, _ in
            let rows = try await pool.query("SELECT $1::boolean, $2::boolean, NOT $1::boolean", [.bool(true), .bool(false)])
            #expect(try rows[0].bool(0) == true)
            #expect(try rows[0].bool(1) == false)
            #expect(try rows[0].bool(2) == false)
        }
    }

    @Test func doublesRoundTripExactly() async throws {
        try await withTestDatabase { pool, _ in
            let values: [Double] = [
                0, -0.0, 0.1, 1.0 / 3.0, .pi, -1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 123_456_789.123_456_78,
                .infinity, -.infinity,
            ]
            for value in values {
                let rows = try await pool.query("SELECT $1::double precision", [.double(value)])
                let decoded = try rows[0].double(0)
                #expect(decoded == value, "\(value) came back as \(decoded)")
                #expect(decoded.sign == value.sign)
            }
            let nan = try await pool.query("SELECT $1::double precision", [.double(.nan)])
            #expect(try nan[0].double(0).isNaN)
        }
    }

    @Test func timestampsKeepMicroseconds() async throws {
        try await withTestDatabase { pool, _ in
            let dates = [
                Date(timeIntervalSince1970: 1_790_000_000.123456),
                Date(timeIntervalSince1970: 1_790_000_000.000001),
                Date(timeIntervalSince1970: 1_790_000_000.5),
                Date(timeIntervalSince1970: 0),
                Date(timeIntervalSince1970: -86_400 * 365 * 30 - 0.25),
                // A Date is a Double: near year 9999 it resolves ~30 µs, so only coarser fractions
                // are exact there.
                Date(timeIntervalSince1970: 253_402_300_799.5),  // 9999-12-31 23:59:59.5
            ]
            for date in dates {
                let rows = try await pool.query(
                    "SELECT $1::timestamptz, (extract(epoch FROM $1::timestamptz) * 1000000)::bigint",
                    [.timestamp(date)])
                let micros = microseconds(date)
                // The server stored exactly the microsecond we meant…
                #expect(try rows[0].int(1) == micros)
                // …and its text decodes back to that microsecond.
                let decoded = try rows[0].date(0)
                #expect(microseconds(decoded) == micros)
            }
        }
    }

    @Test func serverGeneratedTimestampsDecode() async throws {
        try await withTestDatabase { pool, _ in
            let rows = try await pool.query(
                """
                SELECT timestamptz '2026-03-01 12:00:00+00',
                       timestamptz '2026-03-01 12:00:00.5+00',
                       timestamptz '2026-03-01 14:00:00.000123+02',
                       now()
                """)
            let base = Date(timeIntervalSince1970: 1_772_366_400)
            #expect(try rows[0].date(0) == base)
            #expect(try rows[0].date(1) == base.addingTimeInterval(0.5))
            let shifted = try rows[0].date(2)
            #expect(abs(shifted.timeIntervalSince(base) - 0.000123) < 0.000_000_5)
            #expect(abs(try rows[0].date(3).timeIntervalSinceNow) < 60)
        }
    }

    @Test func byteaKeepsEveryByte() async throws {
        try await withTestDatabase { pool, _ in
            let allBytes = (0...255).map(UInt8.init)
            let samples: [[UInt8]] = [[], [0], [0xFF], [0, 0, 0], allBytes, allBytes.reversed(), Array(repeating: 0, count: 100_000)]
            for bytes in samples {
                let rows = try await pool.query("SELECT $1::bytea, octet_length($1::bytea)", [.bytes(bytes)])
                #expect(try rows[0].byteArray(0) == bytes)
                #expect(try rows[0].int(1) == bytes.count)
            }
        }
    }

    @Test func jsonTextRoundTrips() async throws {
        try await withTestDatabase { pool, _ in
            let document = #"{"name": "限定 😀", "price_cents": 1999, "tags": ["a", "b\"c"], "nested": {"ok": true, "none": null}}"#
            let rows = try await pool.query(
                "SELECT $1::json, $1::jsonb, ($1::jsonb)->>'name', ($1::jsonb)->'tags'->>1", [.json(document)])
            // json keeps the text exactly; jsonb is a parsed value (key order and spacing normalised).
            #expect(try rows[0].string(0) == document)
            let reparsed = try JSONSerialization.jsonObject(with: Data(try rows[0].string(1).utf8)) as? NSDictionary
            let original = try JSONSerialization.jsonObject(with: Data(document.utf8)) as? NSDictionary
            #expect(reparsed == original)
            #expect(try rows[0].string(2) == "限定 😀")
            #expect(try rows[0].string(3) == "b\"c")
        }
    }

    @Test func arraysRoundTrip() async throws {
        try await withTestDatabase { pool, _ in
            let texts = ["a", "", "NULL", "with,comma", "{braces}", "quote\"", "back\\slash", "😀 限定", " spaced "]
            let rows = try await pool.query(
                "SELECT array_length($1::bigint[], 1), ($1::bigint[])[3], t, ord FROM unnest($2::text[]) WITH ORDINALITY AS u(t, ord) ORDER BY ord",
                [.intArray([1, -2, Int.max]), .textArray(texts)])
            #expect(try rows[0].int(0) == 3)
            #expect(try rows[0].int(1) == Int.max)
            #expect(try rows.map { try $0.string("t") } == texts)
            let empty = try await pool.query("SELECT cardinality($1::bigint[])", [.intArray([])])
            #expect(try empty[0].int(0) == 0)
        }
    }

    @Test func nullOfEveryTypeIsNull() async throws {
        try await withTestDatabase { pool, _ in
            let types = ["integer", "bigint", "text", "boolean", "double precision", "timestamptz", "bytea", "json", "jsonb"]
            let select = types.enumerated().map { "$\($0.offset + 1)::\($0.element)" }.joined(separator: ", ")
            let rows = try await pool.query("SELECT \(select)", Array(repeating: .null, count: types.count))
            let row = rows[0]
            for column in types.indices { #expect(row.isNull(column)) }
            #expect(try row.optionalInt(0) == nil)
            #expect(try row.optionalInt(1) == nil)
            #expect(try row.optionalString(2) == nil)
            #expect(try row.optionalBool(3) == nil)
            #expect(try row.optionalDouble(4) == nil)
            #expect(try row.optionalDate(5) == nil)
            #expect(try row.optionalByteArray(6) == nil)
            #expect(try row.optionalString(7) == nil)
            #expect(try row.optionalString(8) == nil)
            // A non-optional decoder refuses NULL instead of inventing a value.
            let error = #expect(throws: PostgresError.self) { try row.int(0) }
            #expect(error?.code == .decoding)
            #expect(throws: PostgresError.self) { try row.string(2) }
            #expect(throws: PostgresError.self) { try row.date(5) }

            // The typed nil-or-value constructors produce NULL too.
            let optionals = try await pool.query(
                "SELECT $1::bigint IS NULL, $2::text IS NULL, $3::timestamptz IS NULL",
                [.int(nil as Int?), .text(nil as String?), .timestamp(nil as Date?)])
            #expect(try optionals[0].bool(0) && optionals[0].bool(1) && optionals[0].bool(2))
        }
    }

    @Test func valuesSurviveATableRoundTrip() async throws {
        try await withTestDatabase { pool, _ in
            try await pool.query(
                """
                CREATE TABLE sample (
                    id bigserial PRIMARY KEY, small integer, big bigint, label text, flag boolean,
                    ratio double precision, at timestamptz, blob bytea, doc json, docb jsonb)
                """)
            let at = Date(timeIntervalSince1970: 1_790_000_000.654321)
            let blob: [UInt8] = [0, 0xFF, 0x7F, 0x80, 0, 10, 13]
            let inserted = try await pool.query(
                """
                INSERT INTO sample (small, big, label, flag, ratio, at, blob, doc, docb)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
                RETURNING id
                """,
                [
                    .int(-7), .int(Int.max), .text("ゲーム 🎮"), .bool(true), .double(2.5), .timestamp(at), .bytes(blob),
                    .json(#"{"a":1}"#), .json(#"{"b": [1, 2]}"#),
                ])
            #expect(inserted.count == 2)
            #expect(inserted.affectedRows == 2)

            let rows = try await pool.query("SELECT * FROM sample ORDER BY id")
            #expect(rows.columnNames == ["id", "small", "big", "label", "flag", "ratio", "at", "blob", "doc", "docb"])
            let full = rows[0]
            #expect(try full.int("small") == -7)
            #expect(try full.int("big") == Int.max)
            #expect(try full.string("label") == "ゲーム 🎮")
            #expect(try full.bool("flag"))
            #expect(try full.double("ratio") == 2.5)
            #expect(microseconds(try full.date("at")) == microseconds(at))
            #expect(try full.byteArray("blob") == blob)
            #expect(try full.string("doc") == #"{"a":1}"#)
            #expect(try full.string("docb") == #"{"b": [1, 2]}"#)
            let empty = rows[1]
            #expect(try empty.optionalInt("small") == nil)
            #expect(try empty.optionalString("label") == nil)
            #expect(try empty.optionalDate("at") == nil)
            #expect(try empty.optionalByteArray("blob") == nil)
            #expect(try empty.isNull("flag"))
            #expect(throws: PostgresError.self) { try empty.int("no_such_column") }
        }
    }
}

/// A date as whole microseconds since 1970, the resolution of timestamptz.
private func microseconds(_ date: Date) -> Int {
    Int((date.timeIntervalSince1970 * 1_000_000).rounded())
}
