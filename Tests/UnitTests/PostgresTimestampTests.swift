import Foundation
import Testing

@testable import Postgres

@Suite struct PostgresTimestampTests {
    @Test func roundTripsMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_790_000_000.123456)
        let text = PostgresTimestamp.format(date)
        #expect(text == "2026-09-21 14:13:20.123456+00")
        let parsed = Array(text.utf8).withUnsafeBufferPointer { PostgresTimestamp.parse($0) }
        #expect(abs(parsed!.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
    }

    @Test func parsesServerTextWithoutFraction() throws {
        let parsed = Array("1970-01-02 00:00:01+00".utf8).withUnsafeBufferPointer { PostgresTimestamp.parse($0) }
        #expect(parsed == Date(timeIntervalSince1970: 86_401))
    }

    @Test func refusesNonUTCOffsets() {
        let parsed = Array("2026-01-01 00:00:00+02".utf8).withUnsafeBufferPointer { PostgresTimestamp.parse($0) }
        #expect(parsed == nil)
    }

    @Test func handlesDatesBefore1970() {
        let date = Date(timeIntervalSince1970: -1.5)
        let text = PostgresTimestamp.format(date)
        #expect(text == "1969-12-31 23:59:58.500000+00")
    }
}
