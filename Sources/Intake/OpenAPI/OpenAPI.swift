import Foundation

/// Building blocks of the hand-maintained OpenAPI 3.1 document.
enum OpenAPI {
    /// Who may call an operation.
    enum Access {
        case anyone
        case customer
        case `operator`
        /// A customer or an operator.
        case account
    }

    static func schema(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static let problemResponse: JSONValue = [
        "description": "A problem (RFC 9457); see its `type`.",
        "content": ["application/problem+json": ["schema": schema("Problem")]],
    ]

    /// One operation. `responses` maps status codes to a description and, for JSON bodies, a
    /// schema name; every error status answers with a problem document.
    static func operation(
        _ summary: String, tag: String, access: Access, parameters: [JSONValue] = [], body: String? = nil,
        bodyRequired: Bool = true, responses: [(Int, String, String?)], errors: [Int]
    ) -> JSONValue {
        var members: [String: JSONValue] = [
            "summary": .string(summary),
            "tags": [.string(tag)],
            "operationId": .string(summary.operationID),
        ]
        if access != .anyone {
            members["security"] = [["bearerAuth": []]]
            members["description"] = .string("Requires a bearer token of \(access.phrase).")
        }
        if !parameters.isEmpty { members["parameters"] = .array(parameters) }
        if let body {
            members["requestBody"] = [
                "required": .bool(bodyRequired),
                "content": ["application/json": ["schema": schema(body)]],
            ]
        }
        var answers: [String: JSONValue] = [:]
        for (status, description, schemaName) in responses {
            var response: [String: JSONValue] = ["description": .string(description)]
            if let schemaName { response["content"] = ["application/json": ["schema": schema(schemaName)]] }
            answers[String(status)] = .object(response)
        }
        for status in errors { answers[String(status)] = problemResponse }
        members["responses"] = .object(answers)
        return .object(members)
    }

    static func pathID(_ description: String) -> JSONValue {
        ["name": "id", "in": "path", "required": true, "description": .string(description),
         "schema": ["type": "integer", "minimum": 1]]
    }

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var members: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { members["required"] = .array(required.map(JSONValue.string)) }
        return .object(members)
    }

    static let integer: JSONValue = ["type": "integer"]
    static let string: JSONValue = ["type": "string"]
    static let timestamp: JSONValue = ["type": "string", "format": "date-time"]
    static let hex: JSONValue = ["type": "string", "pattern": "^[0-9a-f]{64}$"]
    static func enumeration(_ values: [String]) -> JSONValue { ["type": "string", "enum": .array(values.map(JSONValue.string))] }
}

extension OpenAPI.Access {
    var phrase: String {
        switch self {
        case .anyone: "anyone"
        case .customer: "a customer"
        case .operator: "an operator"
        case .account: "the owning customer or an operator"
        }
    }
}

extension String {
    /// "Create a product" → "createAProduct".
    fileprivate var operationID: String {
        let words = split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        return words.enumerated().map { $0.offset == 0 ? $0.element.lowercased() : $0.element.capitalized }.joined()
    }
}
