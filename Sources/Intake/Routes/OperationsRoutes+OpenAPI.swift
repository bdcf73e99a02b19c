extension OperationsRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/healthz": [
            "get": OpenAPI.operation(
                "Liveness", tag: "operations", access: .anyone, responses: [(200, "The process answers.", "Health")], errors: []),
        ],
        "/readyz": [
            "get": OpenAPI.operation(
                "Readiness", tag: "operations", access: .anyone,
                responses: [(200, "PostgreSQL and Redis answer.", "Readiness")], errors: [503]),
        ],
        "/metrics": [
            "get": [
                "summary": "Prometheus metrics",
                "tags": ["operations"],
                "operationId": "metrics",
                "responses": ["200": ["description": "Prometheus text exposition format 0.0.4.",
                                      "content": ["text/plain": ["schema": ["type": "string"]]]]],
            ],
        ],
        "/openapi.json": [
            "get": [
                "summary": "This document",
                "tags": ["operations"],
                "operationId": "openAPI",
                "responses": ["200": ["description": "The OpenAPI 3.1 document of this API.",
                                      "content": ["application/json": ["schema": ["type": "object"]]]]],
            ],
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "Health": OpenAPI.object(["status": OpenAPI.enumeration(["ok"])], required: ["status"]),
        "Readiness": OpenAPI.object(
            ["status": OpenAPI.enumeration(["ready"]), "postgres": OpenAPI.enumeration(["up"]), "redis": OpenAPI.enumeration(["up"])],
            required: ["status", "postgres", "redis"]),
    ]
}
