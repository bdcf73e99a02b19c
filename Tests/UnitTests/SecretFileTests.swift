import Foundation
import Settings
import Testing

/// Each secret can be read from the file its `_FILE` variable names.
@Suite struct SecretFileTests {
    @Test func aSecretIsReadFromItsFileAndTheVariableWins() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
        try Data("a-jwt-secret-from-a-file-of-32-bytes-or-more\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try await ShopSettings.load(environment: ["FASTEST_SHOP_AUTH_JWT_SECRET_FILE": path])
        #expect(fromFile.auth.jwtSecret == "a-jwt-secret-from-a-file-of-32-bytes-or-more")
        let both = try await ShopSettings.load(environment: [
            "FASTEST_SHOP_AUTH_JWT_SECRET_FILE": path, "FASTEST_SHOP_AUTH_JWT_SECRET": "the-variable-itself-of-32-bytes-or-more",
        ])
        #expect(both.auth.jwtSecret == "the-variable-itself-of-32-bytes-or-more")
        let callback = try await ShopSettings.load(environment: ["FASTEST_SHOP_PAYMENTS_CALLBACK_SECRET_FILE": path])
        #expect(callback.payments.callbackSecret == "a-jwt-secret-from-a-file-of-32-bytes-or-more")
    }

    @Test func anUnreadableSecretFileIsAnErrorNamingTheKey() async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await ShopSettings.load(environment: ["FASTEST_SHOP_REDIS_PASSWORD_FILE": "/nonexistent/redis-password"])
        }
        #expect(error?.description.contains("redis.password") == true)
    }
}
