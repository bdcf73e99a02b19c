/// The OpenAPI 3.1 document: the fixed parts here, each route group's paths and schemas from
/// the group itself.
enum OpenAPIDocument {
    static func make(groups: [any RouteGroup.Type]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = ["Problem": problemSchema]
        for group in groups {
            for (path, item) in group.openAPIPaths {
                // Two groups may serve one path with different methods.
                paths[path] = .object(paths[path, default: [:]].members.merging(item.members) { first, _ in first })
            }
            schemas.merge(group.openAPISchemas) { first, _ in first }
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "fastest-shop intake API",
                "version": "1",
                "description": "Limited-stock drops: draws, raffles and open-runs. Errors are RFC 9457 problem documents.",
            ],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
            ],
        ]
    }

    static let problemSchema: JSONValue = OpenAPI.object(
        ["type": ["type": "string", "description": "urn:fastest-shop:problem:<slug>",
                  "enum": .array(Problem.Code.all.map { .string($0.type) })],
         "title": OpenAPI.string, "status": OpenAPI.integer, "detail": OpenAPI.string,
         "errors": ["type": "array", "items": OpenAPI.object(["field": OpenAPI.string, "message": OpenAPI.string],
                                                             required: ["field", "message"])]],
        required: ["type", "title", "status", "detail"])

}
