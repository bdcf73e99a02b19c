extension PaymentCallbackRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/payments/callback": [
            "post": OpenAPI.operation(
                "Payment provider callback (Standard Webhooks signature with the provider's secret)", tag: "payments",
                access: .anyone, body: "PaymentCallback",
                responses: [(204, "Accepted (or a repeated webhook-id, ignored).", nil)], errors: [400, 401, 404, 413, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "PaymentCallback": OpenAPI.object(
            ["type": OpenAPI.enumeration(["charge.succeeded", "charge.failed", "refund.succeeded", "refund.failed"]),
             "order_id": OpenAPI.integer, "payment_id": OpenAPI.string,
             "refund_id": ["type": "string", "description": "Refund callbacks: the provider's refund id."]],
            required: ["type", "order_id"]),
    ]
}
