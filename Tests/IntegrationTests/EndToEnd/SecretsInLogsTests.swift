import CurlHTTP
import Foundation
import Postgres
import ShopDomain
import Testing

/// No secret, password or token ever reaches a log line, even at the most verbose level.
@Suite struct SecretsInLogsTests {
    @Test func noProcessLogsASecretAPasswordOrAToken() async throws {
        try await withShopStack(settings: ["log.level": "trace", "payments.window_s": "30"]) { stack in
            try await stack.startServe()
            try await stack.startMockPayments(["--pending-rate", "0.5", "--callback-delay-ms", "50", "--decline-rate", "0.2"])
            try stack.startScheduler()
            try stack.startWorker()

            let password = "Pa55-unmistakable-" + UUID().uuidString.prefix(8)
            #expect(try await stack.call("POST", "/v1/auth/signup", body: #"{"email":"logs@example.com","password":"\#(password)"}"#).status == 201)
            let login = try await stack.call("POST", "/v1/auth/login", body: #"{"email":"logs@example.com","password":"\#(password)"}"#)
            let token = try #require(login.json["access_token"] as? String)
            #expect(try await stack.call("POST", "/v1/auth/login", body: #"{"email":"logs@example.com","password":"\#(password)x"}"#).status == 401)
            #expect(try await stack.call("GET", "/v1/orders/1", token: token + "forged").status == 401)

            let drop = try await DropFixtures.insertDrop(stack.pool, kind: .openRun, stock: 3, closesIn: nil)
            var orders: [Int] = []
            for buyer in [(id: 0, token: token)] + (try await stack.users(3)) {
                let purchase = try await stack.call("POST", "/v1/drops/\(drop)/purchase", token: buyer.token)
                if purchase.status == 201, let id = purchase.json["id"] as? Int { orders.append(id) }
            }
            #expect(!orders.isEmpty)
            try await eventually(timeout: 60, "every payment is final") {
                try await stack.pool.query(
                    "SELECT count(*) FROM orders WHERE drop_id = $1 AND status = 'pending_payment'", [.int(drop)])[0].int(0) == 0
            }
            await stack.stop()

            let secrets = [
                ("the password", password), ("a bearer token", token), ("the JWT key", ShopStack.jwtSecret),
                ("the payments key", ShopStack.paymentsSecret), ("the provider's callback key", ShopStack.callbackSecret),
            ]
            var logged = 0
            for process in stack.processes {
                let output = process.output
                logged += output.count
                for (name, secret) in secrets {
                    // (Not the output itself in the expectation: its failure would print the secret.)
                    let leaked = output.contains(secret)
                    #expect(!leaked, "\(process.arguments.first ?? "?") logged \(name)")
                }
                // Each process sets the level after logging is bootstrapped: the loggers it
                // makes from then on follow it.
                #expect(
                    output.contains(" debug ") || output.contains(" trace "),
                    "\(process.arguments.first ?? "?") logged nothing below info")
            }
            #expect(logged > 1000, "the processes logged at trace level (\(logged) bytes)")
        }
    }
}
