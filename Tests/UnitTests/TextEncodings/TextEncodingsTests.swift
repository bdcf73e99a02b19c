import Foundation
import Testing
import TextEncodings

/// Hex and civil dates, checked against independent references (Foundation's Gregorian calendar,
/// `String(radix:)`), not against themselves.
@Suite struct TextEncodingsTests {
    @Test func civilDatesMatchFoundationsGregorianCalendarAcrossCenturies() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // From 1600 (before the epoch, across leap centuries) to 2400, a day about every 97 days.
        for days in stride(from: Int64(-135_140), through: 157_000, by: 97) {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400)
            let expected = calendar.dateComponents([.year, .month, .day], from: date)
            let civil = CivilDate.fromDays(days)
            #expect(
                [civil.year, civil.month, civil.day] == [expected.year, expected.month, expected.day].map { Int64($0 ?? -1) },
                "day \(days)")
            #expect(CivilDate.days(year: civil.year, month: civil.month, day: civil.day) == days)
        }
    }

    @Test func leapDaysAreWhereTheCalendarPutsThem() {
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) - CivilDate.days(year: 2000, month: 2, day: 28) == 2)
        #expect(CivilDate.days(year: 1900, month: 3, day: 1) - CivilDate.days(year: 1900, month: 2, day: 28) == 1)
        #expect(CivilDate.fromDays(0) == (1970, 1, 1))
        #expect(CivilDate.fromDays(-1) == (1969, 12, 31))
    }

    @Test func hexIsLowercaseTwoDigitsPerByteAndReadsBack() {
        let bytes: [UInt8] = Array(0...255)
        let hex = bytes.lowercaseHex
        #expect(hex == bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        #expect([UInt8](lowercaseHex: hex) == bytes)
    }

    @Test func hexHasOneSpelling() {
        #expect([UInt8](lowercaseHex: "0A") == nil, "uppercase is refused")
        #expect([UInt8](lowercaseHex: "abc") == nil, "odd length is refused")
        #expect([UInt8](lowercaseHex: "zz") == nil)
        #expect([UInt8](lowercaseHex: "") == [])
    }
}
