extension ListingRoutes {
    static let limitParameter: JSONValue = [
        "name": "limit", "in": "query", "description": "Most items on a page.",
        "schema": ["type": "integer", "minimum": 1, "maximum": .int(maximumPageSize), "default": .int(defaultPageSize)],
    ]

    static let openAPIPaths: [String: JSONValue] = [
        "/v1/drops": [
            "get": OpenAPI.operation(
                "List drops", tag: "drops", access: .anyone,
                parameters: [
                    ["name": "after", "in": "query", "description": "Only drops with a larger id (the previous page's next_after).",
                     "schema": ["type": "integer", "minimum": 0]],
                    limitParameter,
                    ["name": "status", "in": "query",
                     "description": "Anyone may list open or scheduled drops (both when absent); other statuses, and every status when absent, need an operator's bearer token.",
                     "schema": OpenAPI.schema("DropStatus")],
                ],
                responses: [(200, "A page of drops in id order.", "DropPage")], errors: [400, 401, 403, 429, 503]),
        ],
        "/v1/me/entries": [
            "get": OpenAPI.operation(
                "List my entries", tag: "entries", access: .customer,
                parameters: [
                    ["name": "after", "in": "query", "description": "The previous page's next_after (an opaque cursor).",
                     "schema": OpenAPI.string],
                    limitParameter,
                ],
                responses: [(200, "A page of the customer's entries, newest first, each with its standing and order.", "EntryPage")],
                errors: [400, 401, 403, 429, 503]),
        ],
        "/v1/me/orders": [
            "get": OpenAPI.operation(
                "List my orders", tag: "orders", access: .customer,
                parameters: [
                    ["name": "after", "in": "query", "description": "Only orders older than this id (the previous page's next_after).",
                     "schema": ["type": "integer", "minimum": 0]],
                    limitParameter,
                ],
                responses: [(200, "A page of the customer's orders, newest first.", "OrderPage")],
                errors: [400, 401, 403, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "DropPage": OpenAPI.object(
            ["drops": ["type": "array", "items": OpenAPI.schema("Drop")],
             "next_after": ["type": "integer", "description": "Pass as `after` for the next page; absent on the last page."]],
            required: ["drops"]),
        "EntryPage": OpenAPI.object(
            ["entries": ["type": "array", "items": OpenAPI.schema("Entry")],
             "next_after": ["type": "string", "description": "Pass as `after` for the next page; absent on the last page."]],
            required: ["entries"]),
        "OrderPage": OpenAPI.object(
            ["orders": ["type": "array", "items": OpenAPI.schema("Order")],
             "next_after": ["type": "integer", "description": "Pass as `after` for the next page; absent on the last page."]],
            required: ["orders"]),
    ]
}
