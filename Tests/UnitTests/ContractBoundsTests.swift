import Foundation
import ShopDomain
import Testing

/// Bounds counted the way the OpenAPI document (JSON Schema) counts them: in Unicode code points.
/// Each case here was a request the document called valid and the server refused, or the
/// reverse, found by scripts/api-fuzz.
@Suite struct ContractBoundsTests {
    /// PostgreSQL's CHECK counts code points: 200 letters with combining accents (400 code
    /// points) passed a count of grapheme clusters and then failed the INSERT with a 500.
    @Test func productNamesAreCountedInCodePoints() {
        #expect(ProductRules.nameIssues(String(repeating: "e\u{301}", count: 100)).isEmpty)
        #expect(ProductRules.nameIssues(String(repeating: "e\u{301}", count: 101)).map(\.field) == ["name"])
        #expect(ProductRules.nameIssues(String(repeating: "é", count: 200)).isEmpty)
        // Only whitespace, by the Unicode property: U+0085 and U+3000 count, U+FEFF does not.
        #expect(ProductRules.nameIssues("\u{85}\u{3000} ").map(\.field) == ["name"])
        #expect(ProductRules.nameIssues(" \u{301}").isEmpty)
        #expect(ProductRules.nameIssues("\u{FEFF}").isEmpty)
    }

    /// bcrypt reads 72 bytes: 72 ASCII characters, or 18 of any kind (4 bytes at most each).
    @Test func passwordsFitBcryptByTheirCodePoints() {
        #expect(PasswordPolicy.issues(String(repeating: "a", count: 72)).isEmpty)
        #expect(PasswordPolicy.issues(String(repeating: "a", count: 73)).map(\.field) == ["password"])
        #expect(PasswordPolicy.issues(String(repeating: "😍", count: 18)).isEmpty)
        #expect(PasswordPolicy.issues(String(repeating: "a", count: 18) + "é").map(\.field) == ["password"])
        // Eight code points are eight characters for the minimum, whatever they combine into.
        #expect(PasswordPolicy.issues(String(repeating: "e\u{301}", count: 4)).isEmpty)
    }

    /// The 254 limit holds for the address as sent, spaces included.
    @Test func emailsAreBoundedAsSent() {
        let address = String(repeating: "a", count: 240) + "@example.com"
        #expect(EmailAddress(address) != nil)
        #expect(EmailAddress(address + "  ") != nil)
        #expect(EmailAddress(address + "   ") == nil)
        #expect(EmailAddress(String(repeating: "é", count: 240) + "@example.com") != nil)
    }

    /// An email is read code point by code point: a space before an emoji modifier is one
    /// grapheme cluster, yet still leading whitespace to trim; `@` before a combining mark is
    /// still the `@`.
    @Test func emailsAreReadByCodePoints() {
        #expect(EmailAddress("\u{2000}\u{1F3FB}@example.com")?.normalized == "\u{1F3FB}@example.com")
        #expect(EmailAddress("a@\u{301}example.com")?.normalized == "a@\u{301}example.com")
        #expect(EmailAddress("a\u{2000}\u{301}b@example.com") == nil)
    }
}
