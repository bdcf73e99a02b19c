import ShopDomain
import Testing

@Suite struct ControlCharactersTests {
    @Test func everyC0CharacterAndDELIsFoundAndNothingElse() {
        for scalar in (0x00...0x1F).map({ Unicode.Scalar($0)! }) + [Unicode.Scalar(0x7F)!] {
            #expect(ControlCharacters.occur(in: "ab\(Character(scalar))cd"), "U+\(String(scalar.value, radix: 16))")
        }
        for text in ["", " ", "~", "Ünïcødé", "\u{80}", "\u{85}", "\u{A0}", "👟 Sneaker", "\u{2028}"] {
            #expect(!ControlCharacters.occur(in: text), "\(text.unicodeScalars.map(\.value))")
        }
        #expect(ControlCharacters.issues("a\u{0}", field: "name").map(\.field) == ["name"])
        #expect(ControlCharacters.issues("a", field: "name").isEmpty)
    }

    /// The password that used to pass the policy and hash as the empty password.
    @Test func aNULPasswordEmailOrNameIsRefused() {
        #expect(PasswordPolicy.issues("\u{0}xxxxxxxx").map(\.field) == ["password"])
        #expect(PasswordPolicy.issues("xxxxxxxx\u{7F}").map(\.field) == ["password"])
        #expect(EmailAddress("ann\u{0}@example.com") == nil)
        #expect(EmailAddress("ann@example.com\u{0}") == nil)
        #expect(ProductRules.nameIssues("Shoe\u{0}").map(\.field) == ["name"])
        #expect(ProductRules.nameIssues("Shoe\tRed").map(\.field) == ["name"])
    }
}
