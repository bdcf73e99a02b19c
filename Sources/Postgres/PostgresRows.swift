import CLibPQ
import Foundation
import TextEncodings

/// The rows of one statement's result. Owns the libpq result and frees it when released.
///
/// A `PGresult` is immutable once created, so reading it from any thread is safe; that is what
/// makes handing it from the connection's thread back to an async caller sound.
public final class PostgresRows: @unchecked Sendable {
    let result: OpaquePointer
    public let count: Int
    public let columnCount: Int
    /// Rows changed by INSERT/UPDATE/DELETE, from the command tag.
    public let affectedRows: Int

    init(result: OpaquePointer) {
        self.result = result
        self.count = Int(PQntuples(result))
        self.columnCount = Int(PQnfields(result))
        self.affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    deinit { PQclear(result) }

    public var columnNames: [String] {
        (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
    }

    public func columnIndex(_ name: String) throws -> Int {
        let index = Int(PQfnumber(result, name))
        guard index >= 0 else {
            throw PostgresError(code: .decoding, message: "result has no column \"\(name)\"")
        }
        return index
    }

}

extension PostgresRows: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(row: Int) -> PostgresRow { PostgresRow(rows: self, index: row) }
}

/// One row of a result, with typed decoders per column (by position or by name).
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    public let index: Int

    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(rows.result, Int32(index), Int32(column)) == 1
    }

    func bytes<T>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        guard column >= 0, column < rows.columnCount else {
            throw PostgresError(code: .decoding, message: "column \(column) out of range")
        }
        guard let value = PQgetvalue(rows.result, Int32(index), Int32(column)) else {
            throw PostgresError(code: .decoding, message: "column \(column) has no value")
        }
        let length = Int(PQgetlength(rows.result, Int32(index), Int32(column)))
        return try value.withMemoryRebound(to: UInt8.self, capacity: length) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    private func nonNull(_ column: Int, _ type: String) throws {
        if isNull(column) {
            throw PostgresError(code: .decoding, message: "column \(column) is NULL, expected \(type)")
        }
    }

    // MARK: decoders by position

    public func int(_ column: Int) throws -> Int {
        try nonNull(column, "integer")
        return try bytes(column) { buffer in
            var value = 0
            var negative = false
            var start = 0
            if buffer.first == 45 {
                negative = true
                start = 1
            }
            guard buffer.count > start else {
                throw PostgresError(code: .decoding, message: "column \(column) is not an integer")
            }
            // Accumulate towards the sign of the result: Int.min has no positive counterpart, so
            // building the magnitude first and negating at the end would overflow on it.
            for position in start..<buffer.count {
                let digit = buffer[position]
                guard digit >= 48 && digit <= 57 else {
                    throw PostgresError(code: .decoding, message: "column \(column) is not an integer")
                }
                let (scaled, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) =
                    negative
                    ? scaled.subtractingReportingOverflow(Int(digit - 48))
                    : scaled.addingReportingOverflow(Int(digit - 48))
                guard !overflow1, !overflow2 else {
                    throw PostgresError(code: .decoding, message: "column \(column) overflows Int")
                }
                value = sum
            }
            return value
        }
    }

    public func string(_ column: Int) throws -> String {
        try nonNull(column, "text")
        return try bytes(column) { String(decoding: $0, as: UTF8.self) }
    }

    public func bool(_ column: Int) throws -> Bool {
        try nonNull(column, "boolean")
        return try bytes(column) { buffer in
            switch buffer.first {
            case 116: return true  // "t"
            case 102: return false  // "f"
            default: throw PostgresError(code: .decoding, message: "column \(column) is not a boolean")
            }
        }
    }

    public func double(_ column: Int) throws -> Double {
        let text = try string(column)
        guard let value = Double(text) else {
            throw PostgresError(code: .decoding, message: "column \(column) is not a number")
        }
        return value
    }

    public func date(_ column: Int) throws -> Date {
        try nonNull(column, "timestamptz")
        return try bytes(column) { buffer in
            guard let date = PostgresTimestamp.parse(buffer) else {
                throw PostgresError(code: .decoding, message: "column \(column) is not a UTC timestamptz")
            }
            return date
        }
    }

    /// bytea, from the server's hex output format.
    public func byteArray(_ column: Int) throws -> [UInt8] {
        try nonNull(column, "bytea")
        return try bytes(column) { buffer in
            guard buffer.count >= 2, buffer[0] == UInt8(ascii: "\\"), buffer[1] == UInt8(ascii: "x"),
                let bytes = [UInt8](lowercaseHexDigits: UnsafeBufferPointer(rebasing: buffer[2...]))
            else {
                throw PostgresError(code: .decoding, message: "column \(column) is not hex bytea")
            }
            return bytes
        }
    }

    public func optionalInt(_ column: Int) throws -> Int? { isNull(column) ? nil : try int(column) }
    public func optionalString(_ column: Int) throws -> String? { isNull(column) ? nil : try string(column) }
    public func optionalBool(_ column: Int) throws -> Bool? { isNull(column) ? nil : try bool(column) }
    public func optionalDouble(_ column: Int) throws -> Double? { isNull(column) ? nil : try double(column) }
    public func optionalDate(_ column: Int) throws -> Date? { isNull(column) ? nil : try date(column) }
    public func optionalByteArray(_ column: Int) throws -> [UInt8]? { isNull(column) ? nil : try byteArray(column) }

    // MARK: decoders by name

    public func isNull(_ column: String) throws -> Bool { isNull(try rows.columnIndex(column)) }
    public func int(_ column: String) throws -> Int { try int(rows.columnIndex(column)) }
    public func string(_ column: String) throws -> String { try string(rows.columnIndex(column)) }
    public func bool(_ column: String) throws -> Bool { try bool(rows.columnIndex(column)) }
    public func double(_ column: String) throws -> Double { try double(rows.columnIndex(column)) }
    public func date(_ column: String) throws -> Date { try date(rows.columnIndex(column)) }
    public func byteArray(_ column: String) throws -> [UInt8] { try byteArray(rows.columnIndex(column)) }
    public func optionalInt(_ column: String) throws -> Int? { try optionalInt(rows.columnIndex(column)) }
    public func optionalString(_ column: String) throws -> String? { try optionalString(rows.columnIndex(column)) }
    public func optionalDate(_ column: String) throws -> Date? { try optionalDate(rows.columnIndex(column)) }
    public func optionalByteArray(_ column: String) throws -> [UInt8]? {
        try optionalByteArray(rows.columnIndex(column))
    }
}
