import Foundation
import ShopDomain
import Testing

@testable import Intake

/// The checked-in OpenAPI document states the bounds the server enforces, each read here from
/// the constant the validation code uses: changing one without the other fails.
@Suite struct OpenAPIDocumentTests {
    let document: [String: Any]

    init() throws {
        document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.load())) as? [String: Any])
    }

    func schema(_ name: String) throws -> [String: Any] {
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        return try #require(schemas[name] as? [String: Any], "schema \(name)")
    }

    func property(_ schemaName: String, _ name: String) throws -> [String: Any] {
        try #require((try schema(schemaName)["properties"] as? [String: Any])?[name] as? [String: Any], "\(schemaName).\(name)")
    }

    var operations: [(String, [String: Any])] {
        let paths = document["paths"] as? [String: [String: [String: Any]]] ?? [:]
        return paths.flatMap { path, item in item.map { ("\($0.key.uppercased()) \(path)", $0.value) } }
    }

    @Test func boundsAreTheServers() throws {
        for name in ["NewProduct", "ProductChanges"] {
            #expect(try property(name, "price_cents")["maximum"] as? Int == ProductRules.maximumPriceCents)
            #expect(try property(name, "name")["minLength"] as? Int == ProductRules.nameLengths.lowerBound)
            #expect(try property(name, "name")["maxLength"] as? Int == ProductRules.nameLengths.upperBound)
        }
        #expect(try property("NewDrop", "stock")["minimum"] as? Int == NewDrop.stockRange.lowerBound)
        #expect(try property("NewDrop", "stock")["maximum"] as? Int == NewDrop.stockRange.upperBound)
        #expect(try property("NewDrop", "max_tickets")["maximum"] as? Int == NewDrop.maxTicketsRange.upperBound)
        #expect(try property("NewDrop", "waitlist_depth")["minimum"] as? Int == NewDrop.waitlistDepthRange.lowerBound)
        #expect(try property("NewDrop", "waitlist_depth")["maximum"] as? Int == NewDrop.waitlistDepthRange.upperBound)
        #expect(try property("EntryRequest", "tickets")["maximum"] as? Int == NewDrop.maxTicketsRange.upperBound)
        #expect(try property("Credentials", "email")["maxLength"] as? Int == EmailAddress.maximumLength)
        let password = try property("Credentials", "password")
        #expect(password["minLength"] as? Int == PasswordPolicy.minimumLength)
        #expect(password["maxLength"] as? Int == PasswordPolicy.maximumBytes)
        #expect((password["anyOf"] as? [[String: Any]])?.first?["maxLength"] as? Int == PasswordPolicy.maximumAnyCharacters)
        let limits = operations.compactMap { _, operation in
            (operation["parameters"] as? [[String: Any]])?.first { $0["name"] as? String == "limit" }?["schema"] as? [String: Any]
        }
        #expect(limits.count == 3)
        for limit in limits {
            #expect(limit["maximum"] as? Int == ListingRoutes.maximumPageSize)
            #expect(limit["default"] as? Int == ListingRoutes.defaultPageSize)
        }
        // Drop timestamps: the year pattern starts where the server's earliest time does.
        let pattern = try #require(try property("NewDrop", "opens_at")["pattern"] as? String)
        #expect(pattern.hasPrefix("^(19[7-9][0-9]|"))
        #expect(Calendar(identifier: .gregorian).component(.year, from: DropRoutes.earliestTimestamp) == 1970)
    }

    /// The problem `type`s are exactly those the server has.
    @Test func problemTypesAreTheServers() throws {
        let types = try #require((try schema("Problem")["properties"] as? [String: Any])?["type"] as? [String: Any])
        #expect(Set(types["enum"] as? [String] ?? []) == Set(Problem.Code.all.map(\.type)))
    }

    /// Every operation says who may call it and answers every error with a problem document.
    @Test func everyOperationStatesSecurityAndProblems() throws {
        #expect(operations.count >= 20)
        for (name, operation) in operations {
            #expect(operation["security"] != nil, "\(name) states its security")
            let responses = try #require(operation["responses"] as? [String: [String: Any]], "\(name)")
            #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(name) has a success")
            for (status, response) in responses where Int(status)! >= 400 {
                #expect(response["$ref"] as? String == "#/components/responses/Problem", "\(name) \(status) is a problem")
            }
            if name.contains(" /v1/"), name != "POST /v1/payments/callback" {
                for status in ["401", "429", "503"] {
                    #expect(
                        responses[status] != nil,
                        "\(name) documents \(status): the bearer-token check, the rate limit and the stores apply to every /v1 route")
                }
            }
        }
    }
}
