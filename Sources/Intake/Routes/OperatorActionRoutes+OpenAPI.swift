extension OperatorActionRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/orders/{id}/refund": [
            "post": OpenAPI.operation(
                "Refund a paid order", tag: "orders", access: .operator, parameters: [OpenAPI.pathID("Order id.")],
                responses: [(200, "The order, now refund_pending (refunded once the provider confirms); the same when repeated.", "Order")],
                errors: [401, 403, 404, 409, 429, 503]),
        ],
        "/v1/drops/{id}/cancel": [
            "post": OpenAPI.operation(
                "Cancel a drop", tag: "drops", access: .operator, parameters: [OpenAPI.pathID("Drop id.")],
                responses: [(200, "The drop, now cancelled: unpaid orders voided, paid orders refunded; the same when repeated.", "Drop")],
                errors: [401, 403, 404, 409, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [:]
}
