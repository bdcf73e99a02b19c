extension AccountRoutes {
    static let openAPIPaths: [String: JSONValue] = [
        "/v1/auth/signup": [
            "post": OpenAPI.operation(
                "Sign up as a customer", tag: "accounts", access: .anyone, body: "Credentials",
                responses: [(201, "The account was created.", "SignedUp")], errors: [400, 409, 413, 429, 503]),
        ],
        "/v1/auth/login": [
            "post": OpenAPI.operation(
                "Log in", tag: "accounts", access: .anyone, body: "Credentials",
                responses: [(200, "An access token.", "AccessToken")], errors: [400, 401, 413, 429, 503]),
        ],
    ]

    static let openAPISchemas: [String: JSONValue] = [
        "Credentials": OpenAPI.object(
            ["email": ["type": "string", "format": "email"],
             "password": ["type": "string", "minLength": 8, "description": "At most 72 bytes (bcrypt)."]],
            required: ["email", "password"]),
        "SignedUp": OpenAPI.object(["user_id": OpenAPI.integer], required: ["user_id"]),
        "AccessToken": OpenAPI.object(
            ["access_token": OpenAPI.string, "token_type": OpenAPI.enumeration(["Bearer"]),
             "expires_in": ["type": "integer", "description": "Seconds until the token expires."]],
            required: ["access_token", "token_type", "expires_in"]),
    ]
}
