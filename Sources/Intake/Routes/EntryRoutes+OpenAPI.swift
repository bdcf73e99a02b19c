extension EntryRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/drops/{id}/entries": [
            "post": OpenAPI.operation(
                "Enter a drop", tag: "entries", access: .customer, parameters: [OpenAPI.pathID("Drop id (a draw or raffle).")],
                body: "EntryRequest", bodyRequired: false,
                responses: [
                    (201, "The entry, committed.", "Entry"),
                    (200, "The customer had already entered: the same entry.", "Entry"),
                ],
                errors: [400, 401, 403, 404, 409, 413, 429, 503]),
        ],
        "/v1/drops/{id}/entries/me": [
            "get": OpenAPI.operation(
                "Read my entry", tag: "entries", access: .customer, parameters: [OpenAPI.pathID("Drop id.")],
                responses: [(200, "The entry and where it stands.", "Entry")], errors: [401, 403, 404, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "EntryRequest": OpenAPI.object(
            ["tickets": ["type": "integer", "minimum": 1, "description": "Raffles: 1..max_tickets (default 1). Draws: 1."]]),
        "Entry": OpenAPI.object(
            ["drop_id": OpenAPI.integer, "user_id": OpenAPI.integer, "tickets": OpenAPI.integer,
             "status": OpenAPI.enumeration(["entered", "won", "waitlisted", "lost"]),
             "created_at": OpenAPI.timestamp,
             "position": ["type": "integer", "description": "Place in the ranking, once drawn (0-based)."],
             "order": OpenAPI.schema("Order")],
            required: ["drop_id", "user_id", "tickets", "status", "created_at"]),
    ]
}
