extension OrderRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/orders/{id}": [
            "get": OpenAPI.operation(
                "Read an order", tag: "orders", access: .account, parameters: [OpenAPI.pathID("Order id.")],
                responses: [(200, "The order with its status.", "Order")], errors: [401, 404, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "Order": OpenAPI.object(
            ["id": OpenAPI.integer, "drop_id": OpenAPI.integer, "user_id": OpenAPI.integer,
             "status": OpenAPI.enumeration(["pending_payment", "paid", "failed", "expired", "cancelled", "refund_pending", "refunded"]),
             "amount_cents": OpenAPI.integer, "currency": OpenAPI.string, "payment_id": OpenAPI.string,
             "expires_at": OpenAPI.timestamp, "created_at": OpenAPI.timestamp, "updated_at": OpenAPI.timestamp],
            required: ["id", "drop_id", "user_id", "status", "amount_cents", "currency", "expires_at", "created_at", "updated_at"]),
    ]
}
