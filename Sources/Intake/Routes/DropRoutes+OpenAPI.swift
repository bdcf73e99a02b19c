extension DropRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/drops": [
            "post": OpenAPI.operation(
                "Create a drop", tag: "drops", access: .operator, body: "NewDrop",
                responses: [(201, "The drop; draws and raffles carry their commitment.", "Drop")],
                errors: [400, 401, 403, 413, 429, 503]),
        ],
        "/v1/drops/{id}": [
            "get": OpenAPI.operation(
                "Read a drop", tag: "drops", access: .anyone, parameters: [OpenAPI.pathID("Drop id.")],
                responses: [(200, "The drop; after the draw also its seed and entries digest.", "Drop")],
                errors: [404, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "DropKind": OpenAPI.enumeration(["draw", "raffle", "open_run"]),
        "DropStatus": OpenAPI.enumeration(["scheduled", "open", "closing", "drawn", "closed", "settled", "cancelled"]),
        "NewDrop": OpenAPI.object(
            ["product_id": OpenAPI.integer,
             "kind": OpenAPI.schema("DropKind"),
             "stock": ["type": "integer", "minimum": 1, "maximum": 1_000_000],
             "opens_at": OpenAPI.timestamp,
             "closes_at": ["type": "string", "format": "date-time", "description": "Required for draws and raffles; after opens_at and in the future."],
             "max_tickets": ["type": "integer", "minimum": 1, "maximum": 1_000_000, "description": "Required for raffles; 1 otherwise."],
             "waitlist_depth": ["type": "integer", "minimum": 0, "maximum": 1_000_000, "description": "Draws and raffles; defaults to stock."]],
            required: ["product_id", "kind", "stock", "opens_at"]),
        "Drop": OpenAPI.object(
            ["id": OpenAPI.integer, "product_id": OpenAPI.integer, "kind": OpenAPI.schema("DropKind"),
             "status": OpenAPI.schema("DropStatus"), "stock": OpenAPI.integer, "available": OpenAPI.integer,
             "held": OpenAPI.integer, "sold": OpenAPI.integer, "opens_at": OpenAPI.timestamp,
             "closes_at": OpenAPI.timestamp, "max_tickets": OpenAPI.integer, "waitlist_depth": OpenAPI.integer,
             "entry_count": OpenAPI.integer, "created_at": OpenAPI.timestamp,
             "price_cents": ["type": "integer", "minimum": 0, "description": "The product's price when the drop was created; every order of the drop is charged this."],
             "currency": ["type": "string", "pattern": "^[A-Z]{3}$", "description": "Locked with the price."],
             "commitment": ["type": "string", "pattern": "^[0-9a-f]{64}$", "description": "hex(SHA-256(seed)); draws and raffles."],
             "seed": ["type": "string", "pattern": "^[0-9a-f]{64}$", "description": "Only after the draw."],
             "beacon": ["type": "string", "description": "Only after the draw."],
             "entries_digest": ["type": "string", "pattern": "^[0-9a-f]{64}$", "description": "Only after the draw."],
             "drawn_at": ["type": "string", "format": "date-time", "description": "Only after the draw."]],
            required: ["id", "product_id", "kind", "status", "price_cents", "currency", "stock", "available", "held", "sold",
                       "opens_at", "max_tickets", "waitlist_depth", "entry_count", "created_at"]),
    ]
}
