import HTTPTypes
import Testing

@testable import Intake

/// `value(of:)` answers what `HTTPFields`' own subscript answers.
@Suite struct HTTPFieldsValueTests {
    @Test func answersAsTheSubscriptDoes() {
        let once: HTTPFields = [.authorization: "Bearer abc", .contentType: "application/json"]
        #expect(once.value(of: .authorization) == "Bearer abc")
        #expect(once.value(of: .authorization) == once[.authorization])
        #expect(once.value(of: .contentLength) == nil)

        var twice = once
        twice.append(HTTPField(name: .authorization, value: "Bearer def"))
        #expect(twice.value(of: .authorization) == "Bearer abc, Bearer def")
        #expect(twice.value(of: .authorization) == twice[.authorization])

        // Field names match whatever their case on the wire.
        let lowercase = HTTPFields([HTTPField(name: HTTPField.Name("authorization")!, value: "Bearer x")])
        #expect(lowercase.value(of: .authorization) == "Bearer x")
    }
}
