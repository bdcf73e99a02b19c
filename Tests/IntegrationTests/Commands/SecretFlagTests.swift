import Foundation
import Testing

/// `--set` refuses secret keys: a flag's value shows in `ps` and shell history.
@Suite struct SecretFlagTests {
    @Test func setRefusesASecretKeyWithoutEchoingIt() async throws {
        let process = try ShopProcess(
            ["serve", "--set", "auth.jwt_secret=do-not-echo-this-secret-of-32-bytes-or-more"], environment: ProcessInfo.processInfo.environment)
        let status = try await process.waitForExit(timeout: 60)
        #expect(status != 0)
        #expect(process.output.contains("auth.jwt_secret"))
        #expect(process.output.contains("FASTEST_SHOP_AUTH_JWT_SECRET_FILE"))
        #expect(!process.output.contains("do-not-echo-this-secret"))
    }
}
