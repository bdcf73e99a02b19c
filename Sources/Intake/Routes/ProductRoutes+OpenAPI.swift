extension ProductRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/products": [
            "post": OpenAPI.operation(
                "Create a product", tag: "products", access: .operator, body: "NewProduct",
                responses: [(201, "The product.", "Product")], errors: [400, 401, 403, 413, 429, 503]),
        ],
        "/v1/products/{id}": [
            "get": OpenAPI.operation(
                "Read a product", tag: "products", access: .anyone, parameters: [OpenAPI.pathID("Product id.")],
                responses: [(200, "The product, from the cache when warm.", "Product")], errors: [404, 429, 503]),
            "patch": OpenAPI.operation(
                "Change a product", tag: "products", access: .operator, parameters: [OpenAPI.pathID("Product id.")],
                body: "ProductChanges",
                responses: [(200, "The changed product; the cached copy is invalidated.", "Product")],
                errors: [400, 401, 403, 404, 413, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "NewProduct": OpenAPI.object(
            ["name": ["type": "string", "minLength": 1, "maxLength": 200],
             "price_cents": ["type": "integer", "minimum": 0],
             "currency": ["type": "string", "pattern": "^[A-Z]{3}$"]],
            required: ["name", "price_cents", "currency"]),
        "ProductChanges": OpenAPI.object(
            ["name": ["type": "string", "minLength": 1, "maxLength": 200],
             "price_cents": ["type": "integer", "minimum": 0],
             "currency": ["type": "string", "pattern": "^[A-Z]{3}$"]]),
        "Product": OpenAPI.object(
            ["id": OpenAPI.integer, "name": OpenAPI.string, "price_cents": OpenAPI.integer, "currency": OpenAPI.string,
             "created_at": OpenAPI.timestamp, "updated_at": OpenAPI.timestamp],
            required: ["id", "name", "price_cents", "currency", "created_at", "updated_at"]),
    ]
}
