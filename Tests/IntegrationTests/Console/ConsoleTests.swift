import Crypto
import CurlHTTP
import Foundation
import Intake
import JobQueue
import Postgres
import Redis
import ShopDomain
import Storage
import Synchronization
import Testing

/// A browser's part in a console conversation over real HTTP: cookies kept between requests,
/// forms posted url-encoded, redirects not followed (the tests look at them).
final class ConsoleBrowser: Sendable {
    let server: IntakeTestServer
    private let cookies = Mutex<[String: String]>([:])

    init(_ server: IntakeTestServer) { self.server = server }

    var cookieHeader: String { cookies.withLock { $0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") } }
    func cookie(_ name: String) -> String? { cookies.withLock { $0[name] } }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> HTTPResponse {
        try remember(try await server.call("GET", path, headers: [("Cookie", cookieHeader)] + headers))
    }

    func post(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) async throws -> HTTPResponse {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try remember(
            try await server.http.execute(
                HTTPRequest(
                    method: "POST", url: server.baseURL + path,
                    headers: ([("Cookie", cookieHeader), ("Content-Type", "application/x-www-form-urlencoded")] + headers).map {
                        (name: $0.0, value: $0.1)
                    },
                    body: Array(body.utf8), timeoutMilliseconds: 30_000)))
    }

    /// The CSRF token of the first form of a page.
    static func csrf(in page: HTTPResponse) throws -> String {
        let text = page.bodyText
        let marker = "name=\"csrf\" value=\""
        let start = try #require(text.range(of: marker), "the page has a CSRF field").upperBound
        return String(text[start...].prefix(64))
    }

    func signIn(email: String, password: String) async throws -> HTTPResponse {
        let form = try await get("/console/login")
        return try await post("/console/login", [("csrf", try Self.csrf(in: form)), ("email", email), ("password", password)])
    }

    private func remember(_ response: HTTPResponse) throws -> HTTPResponse {
        for header in response.headers where header.name.lowercased() == "set-cookie" {
            let pair = header.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            cookies.withLock { $0[name] = value.isEmpty ? nil : value }
        }
        return response
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

extension IntakeTestServer {
    /// An account with a real bcrypt hash, so it can sign in.
    func makeAccount(role: Role, password: String = "correct horse battery") async throws -> (id: Int, email: String, password: String) {
        let email = "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let user = try await UserStore(pool: pool).create(
            email: EmailAddress(email)!, passwordHash: try await service.passwords.hash(password), role: role)
        return (user.id, email, password)
    }
}

@Suite struct ConsoleTests {
    @Test func operatorsSignInWithAnHttpOnlyStrictCookieAndSignOut() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            let before = try await browser.get("/console")
            #expect(before.status == 303)
            #expect(before.header("Location") == "/console/login")

            let signedIn = try await browser.signIn(email: account.email, password: account.password)
            #expect(signedIn.status == 303)
            #expect(signedIn.header("Location") == "/console")
            let setCookie = try #require(signedIn.headers.first { $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix("fs_console=") }?.value)
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            #expect(!setCookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
            let sessionID = try #require(browser.cookie("fs_console"))
            let key = server.keyPrefix + "console:session:" + SHA256Hex.of(sessionID)
            let ttl = try await server.redis.execute("TTL", key).int ?? -2
            #expect(ttl > 0 && ttl <= 28_800, "the session expires by itself")

            let overview = try await browser.get("/console")
            #expect(overview.status == 200)
            #expect(overview.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(overview.bodyText.contains("<h1>Overview</h1>"))

            // Signing out is a form like any other: without its token it is refused.
            let forged = try await browser.post("/console/logout", [])
            #expect(forged.status == 403)
            #expect(try await browser.get("/console").status == 200, "the refused sign-out ended nothing")
            let out = try await browser.post("/console/logout", [("csrf", try ConsoleBrowser.csrf(in: overview))])
            #expect(out.status == 303)
            #expect(out.header("Location") == "/console/login")
            #expect(try await server.redis.execute("EXISTS", key).int == 0)
            let after = try await server.call("GET", "/console/drops", headers: [("Cookie", "fs_console=\(sessionID)")])
            #expect(after.status == 303, "the old cookie opens nothing")
            #expect(after.header("Location") == "/console/login")
        }
    }

    @Test func behindTLSTheCookieIsSecure() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            let form = try await browser.get("/console/login")
            let signedIn = try await browser.post(
                "/console/login", [("csrf", try ConsoleBrowser.csrf(in: form)), ("email", account.email), ("password", account.password)],
                headers: [("X-Forwarded-Proto", "https")])
            #expect(signedIn.status == 303)
            #expect(
                signedIn.headers.contains {
                    $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix("fs_console=") && $0.value.contains("; Secure")
                })
        }
    }

    @Test func customersAndWrongPasswordsCannotSignIn() async throws {
        try await withIntakeServer { server in
            let customer = try await server.makeAccount(role: .customer)
            let operatorAccount = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            let refused = try await browser.signIn(email: customer.email, password: customer.password)
            #expect(refused.status == 401)
            #expect(refused.bodyText.contains("not an operator account"))
            #expect(browser.cookie("fs_console") == nil)
            #expect(try await browser.signIn(email: operatorAccount.email, password: "wrong password").status == 401)
            #expect(try await browser.signIn(email: "nobody@example.com", password: "whatever").status == 401)
            // The sign-in form itself needs its token (against login CSRF).
            let noToken = try await browser.post("/console/login", [("email", operatorAccount.email), ("password", operatorAccount.password)])
            #expect(noToken.status == 403)
            #expect(browser.cookie("fs_console") == nil)
        }
    }

    @Test func pagesShowTheFiguresAndActionsNeedTheToken() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            #expect(try await browser.signIn(email: account.email, password: account.password).status == 303)

            let drop = try await DropFixtures.insertDrop(server.pool, kind: .draw, stock: 3)
            // Entered through the API: the entry count is kept by the entry writers.
            let users = try await server.makeUsers(4)
            for user in users { #expect(try await server.call("POST", "/v1/drops/\(drop)/entries", token: user.token).status == 201) }
            let customers = users.map(\.id)
            try await server.pool.query(
                """
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, webhook_id, expires_at)
                VALUES ($1, $2, 12000, 'EUR', $3, now() + interval '15 minutes')
                """, [.int(drop), .int(customers[0]), .text(UUID().uuidString)])
            try await server.pool.query("UPDATE drops SET available = 2, held = 1 WHERE id = $1", [.int(drop)])

            let page = try await browser.get("/console/drops/\(drop)")
            #expect(page.status == 200)
            let html = page.bodyText
            #expect(html.contains("id=\"stock-available\">2<"))
            #expect(html.contains("id=\"stock-held\">1<"))
            #expect(html.contains("id=\"stock-sold\">0<"))
            #expect(html.contains("id=\"entry-count\">4<"))
            #expect(html.contains("<tr data-state=\"pending_payment\"><td>pending_payment</td><td class=\"num\">1</td></tr>"))
            #expect(html.contains("<svg"))

            let list = try await browser.get("/console/drops?status=open")
            #expect(list.bodyText.contains("data-drop-id=\"\(drop)\""))
            #expect(!(try await browser.get("/console/drops?status=drawn")).bodyText.contains("data-drop-id=\"\(drop)\""))

            // Close now: refused without the token, done with it (the scheduler takes it from there).
            let forged = try await browser.post("/console/drops/\(drop)/close", [("csrf", String(repeating: "0", count: 64))])
            #expect(forged.status == 403)
            let due = { try await server.pool.query("SELECT closes_at <= now() FROM drops WHERE id = $1", [.int(drop)])[0].bool(0) }
            #expect(try await due() == false)
            let closed = try await browser.post("/console/drops/\(drop)/close", [("csrf", try ConsoleBrowser.csrf(in: page))])
            #expect(closed.status == 303)
            #expect(try await due())

            // Dead jobs, with what they carry escaped.
            let job = Job(
                id: "dead-1", kind: "order.charge", queue: "payments", attempt: 5, maxAttempts: 5, visibilityMilliseconds: 60_000,
                enqueuedAtMilliseconds: 1_000, uniqueKey: nil, payload: "{\"order_id\":1}")
            let prefix = JobQueue.keyPrefix(deployment: server.keyPrefix)
            _ = try await server.redis.pipeline([
                RedisCommand("ZADD", prefix + "{payments}:dead", 1_000, job.id),
                RedisCommand("HSET", prefix + "{payments}:dead:jobs", job.id, job.encoded),
                RedisCommand("HSET", prefix + "{payments}:dead:errors", job.id, "<script>alert(1)</script>"),
                RedisCommand("SADD", prefix + "{jobs}:queues", "payments"),
            ])
            let queues = try await browser.get("/console/queues")
            #expect(queues.bodyText.contains("data-job-id=\"dead-1\""))
            #expect(queues.bodyText.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!queues.bodyText.contains("<script>"))
            #expect(queues.bodyText.contains("<tr data-queue=\"payments\"><td>payments</td><td class=\"num ready\">0</td>"))
            #expect(try await browser.post("/console/queues/dead/dead-1/retry", []).status == 403)
            let retried = try await browser.post("/console/queues/dead/dead-1/retry", [("csrf", try ConsoleBrowser.csrf(in: queues))])
            #expect(retried.status == 303)
            #expect(try await server.service.queue.overview().queues.first { $0.queue == "payments" }?.waiting == 1)

            // A declined payment: the order failed for that reason, and one charge answer says so.
            let declined = try await server.pool.query(
                """
                INSERT INTO orders (drop_id, user_id, status, charge_state, failure, amount_cents, currency, webhook_id, expires_at)
                VALUES ($1, $2, 'failed', 'done', 'declined', 12000, 'EUR', $3, now()) RETURNING id
                """, [.int(drop), .int(customers[1]), .text(UUID().uuidString)])[0].int(0)
            try await server.pool.query(
                "INSERT INTO charge_attempts (order_id, attempt, outcome, http_status, detail) VALUES ($1, 1, 'failed', 402, 'declined')",
                [.int(declined)])
            let payments = try await browser.get("/console/payments")
            #expect(payments.status == 200)
            #expect(payments.bodyText.contains("<tr data-outcome=\"failed\"><td>failed</td><td class=\"num\">1</td></tr>"))
            #expect(payments.bodyText.contains("<tr data-reason=\"declined\"><td>declined</td><td class=\"num\">1</td></tr>"))
            #expect(try await browser.get("/console/drops/999999").status == 404)
        }
    }

    /// The Queues page's hour of counters and the workers' host and start, as the queue keeps them.
    @Test func queuesShowTheLastHourPerQueueAndWhereWorkersRun() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            #expect(try await browser.signIn(email: account.email, password: account.password).status == 303)
            let prefix = JobQueue.keyPrefix(deployment: server.keyPrefix)
            let now = try await server.redis.execute("TIME").requireArray()
            let minute = (now[0].int ?? 0) / 60
            let started = (now[0].int ?? 0) * 1000 - 90_000
            _ = try await server.redis.pipeline([
                RedisCommand("SADD", prefix + "{jobs}:queues", "payments"),
                RedisCommand("SET", prefix + "{payments}:stats:processed:payments:\(minute)", 40),
                RedisCommand("SET", prefix + "{payments}:stats:processed:payments:\(minute - 5)", 2),
                RedisCommand("SET", prefix + "{payments}:stats:failed:payments:\(minute - 1)", 3),
                RedisCommand("SET", prefix + "{payments}:stats:processed:payments:\(minute - 61)", 1000),
                RedisCommand("ZADD", prefix + "{jobs}:workers", (now[0].int ?? 0) * 1000, "worker-a"),
                RedisCommand("HSET", prefix + "{jobs}:workers:info", "worker-a", "box-7|\(started)"),
            ])
            let page = try await browser.get("/console/queues")
            #expect(page.status == 200)
            let html = page.bodyText
            #expect(
                html.contains("<td class=\"num processed-hour\">42</td><td class=\"num failed-hour\">3</td>"),
                "the minute before the hour is left out")
            #expect(html.contains("<div class=\"throughput\" data-queue=\"payments\"><svg"))
            #expect(html.contains("<tr data-worker-id=\"worker-a\"><td class=\"mono\">worker-a</td><td class=\"host\">box-7</td>"))
            #expect(html.contains("<td class=\"started\">\(ConsoleTestTime.iso(milliseconds: started))</td>"))
        }
    }

    /// A worker died holding a job on its last attempt: the scheduler's rescuer buries it, and
    /// the Queues page counts it among the failed of the last hour, next to the dead job itself.
    @Test func aJobTheRescuerBuriesCountsAsFailedOnTheQueuesPage() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            #expect(try await browser.signIn(email: account.email, password: account.password).status == 303)
            let prefix = JobQueue.keyPrefix(deployment: server.keyPrefix)
            let now = try await server.redis.execute("TIME").requireArray()
            let milliseconds = (now[0].int ?? 0) * 1000
            // v1|id|kind|queue|attempt|max_attempts|visibility_ms|enqueued_ms|unique|payload: its last attempt.
            let envelope = "v1|rescued-1|order.charge|payments|3|3|1000|\(milliseconds - 120_000)||{\"order_id\":1}"
            _ = try await server.redis.pipeline([
                RedisCommand("SADD", prefix + "{jobs}:queues", "payments"),
                RedisCommand("HSET", prefix + "{payments}:inflight:gone", "rescued-1", envelope),
                // Its worker's last heartbeat was half an hour ago.
                RedisCommand("ZADD", prefix + "{jobs}:workers", milliseconds - 1_800_000, "gone"),
            ])
            let before = try await browser.get("/console/queues").bodyText
            #expect(before.contains("<td class=\"num failed-hour\">0</td>"), "\(before)")

            let outcome = try await server.service.queue.rescueOrphanedJobs()
            #expect(outcome.buried == 1 && outcome.rescued == 0)
            let html = try await browser.get("/console/queues").bodyText
            #expect(
                html.contains("<td class=\"num dead\">1</td><td class=\"num processed-hour\">0</td><td class=\"num failed-hour\">1</td>"),
                "\(html)")
            #expect(html.contains("rescued-1"))
        }
    }

    /// Provider latency p50/p99 over the timed charge answers, late successes and refunds.
    @Test func paymentsShowProviderLatencyLateSuccessesAndRefunds() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            #expect(try await browser.signIn(email: account.email, password: account.password).status == 303)
            let buyers = try await DropFixtures.insertCustomers(server.pool, count: 3)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 5, closesIn: nil)
            let paid = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyers[0], paid: true)
            // 101 timed answers of 1…101 ms: p50 is 51, p99 100 (no interpolation); an old one is outside the hour.
            try await server.pool.query(
                """
                INSERT INTO charge_attempts (order_id, attempt, outcome, latency_ms)
                SELECT $1, n, 'retryable', n FROM generate_series(1, 101) n
                """, [.int(paid)])
            try await server.pool.query(
                "INSERT INTO charge_attempts (order_id, attempt, outcome, latency_ms, at) VALUES ($1, 102, 'retryable', 90000, now() - interval '2 hours')",
                [.int(paid)])
            // One late success (refunded automatically) and one operator refund.
            for (index, reason) in [(1, "late_success"), (2, "operator")] {
                let order = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyers[index], paid: true)
                try await server.pool.query(
                    "INSERT INTO refunds (order_id, webhook_id, payment_id, amount_cents, currency, reason) SELECT id, 'rf_' || id, payment_id, amount_cents, currency, $2 FROM orders WHERE id = $1",
                    [.int(order), .text(reason)])
            }
            let page = try await browser.get("/console/payments")
            #expect(page.status == 200)
            let html = page.bodyText
            #expect(html.contains("id=\"latency-p50\">51 ms<"))
            #expect(html.contains("id=\"latency-p99\">100 ms<"))
            #expect(html.contains("id=\"timed-answers\">101<"))
            #expect(html.contains("id=\"late-successes\">1<"))
            #expect(html.contains("<tr data-refund-reason=\"operator\"><td>operator</td><td class=\"num\">1</td></tr>"))
            #expect(html.contains("<tr data-refund-state=\"pending\"><td>pending</td><td class=\"num\">2</td></tr>"))
        }
    }

    /// Refund and cancel from the console are the API's own actions (same store code): the same
    /// records, and refused without the form's token.
    @Test func ordersAreRefundedAndDropsCancelledFromTheDropPage() async throws {
        try await withIntakeServer { server in
            let account = try await server.makeAccount(role: .operator)
            let browser = ConsoleBrowser(server)
            #expect(try await browser.signIn(email: account.email, password: account.password).status == 303)
            let buyers = try await DropFixtures.insertCustomers(server.pool, count: 2)
            let drop = try await DropFixtures.insertDrop(server.pool, kind: .openRun, stock: 3, closesIn: nil)
            let paid = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyers[0], paid: true)
            let pending = try await MoneyFixtures.openRunOrder(server.pool, dropID: drop, userID: buyers[1], paid: false)

            let page = try await browser.get("/console/drops/\(drop)")
            let html = page.bodyText
            #expect(html.contains("<tr data-order-id=\"\(paid)\">"))
            #expect(html.contains("<tr data-order-id=\"\(pending)\">"))
            #expect(html.contains("action=\"/console/orders/\(paid)/refund\""), "a paid order has a Refund button")
            #expect(!html.contains("action=\"/console/orders/\(pending)/refund\""), "an unpaid one has none")
            #expect(html.contains("id=\"cancel-drop\""))

            let status = { (order: Int) in try await server.pool.query("SELECT status FROM orders WHERE id = $1", [.int(order)])[0].string(0) }
            #expect(try await browser.post("/console/orders/\(paid)/refund", []).status == 403)
            #expect(try await status(paid) == "paid", "the refused form changed nothing")
            let csrf = try ConsoleBrowser.csrf(in: page)
            let refunded = try await browser.post("/console/orders/\(paid)/refund", [("csrf", csrf)])
            #expect(refunded.status == 303)
            #expect(refunded.header("Location") == "/console/drops/\(drop)?done=refunding")
            #expect(try await status(paid) == "refund_pending")
            let record = try await server.pool.query(
                "SELECT count(*), min(requested_by), min(reason) FROM refunds WHERE order_id = $1", [.int(paid)])[0]
            #expect(try record.int(0) == 1 && record.int(1) == account.id && record.string(2) == "operator")
            #expect(try await OperatorActionTests.refundJobs(server).count == 1)
            // An unpaid order is refused with the API's words, on a page.
            let refused = try await browser.post("/console/orders/\(pending)/refund", [("csrf", csrf)])
            #expect(refused.status == 409)
            #expect(refused.bodyText.contains("only a paid order can be refunded"))

            #expect(try await browser.post("/console/drops/\(drop)/cancel", []).status == 403)
            let dropStatus = { try await server.pool.query("SELECT status, cancelled_by FROM drops WHERE id = $1", [.int(drop)])[0] }
            #expect(try await dropStatus().string(0) == "open")
            let cancelled = try await browser.post("/console/drops/\(drop)/cancel", [("csrf", csrf)])
            #expect(cancelled.status == 303)
            #expect(try await dropStatus().string(0) == "cancelled")
            #expect(try await dropStatus().int(1) == account.id)
            #expect(try await status(pending) == "cancelled")
            #expect(cancelled.header("Location") == "/console/drops/\(drop)?done=cancelled")
            let after = try await browser.get("/console/drops/\(drop)?done=cancelled")
            #expect(!after.bodyText.contains("id=\"cancel-drop\""), "a cancelled drop is final")
            #expect(after.bodyText.contains("The drop was cancelled"))
        }
    }
}

enum ConsoleTestTime {
    /// The console's way of writing a time (its `ConsoleRoutes.time`).
    static func iso(milliseconds: Int) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            .formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }
}

enum SHA256Hex {
    static func of(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
