import ArgumentParser
import CurlHTTP
import Foundation
import Intake
import Logging
import Postgres
import ServiceLifecycle
import ShopDomain
import Storage

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole platform locally and show it: an open-run rush and a verifiable draw, with a readable report.")

    @OptionGroup var settings: SettingsOptions
    @Option(help: "Buyers rushing the open-run.") var buyers = 2000
    @Option(help: "Units of the open-run.") var openRunStock = 10
    @Option(help: "Customers entering the draw.") var entrants = 300
    @Option(help: "Units of the draw.") var drawStock = 5

    func run() async throws {
        var logger = Logger(label: "fastest-shop.demo")
        logger.logLevel = .error
        let stack = try await LocalStack.make(options: settings, apiPort: 0, paymentsPort: 0, logger: logger)
        let group = ServiceGroup(configuration: .init(services: stack.services, logger: logger))
        let running = Task { try await group.run() }
        do {
            try await stack.waitUntilReady()
            try await Showcase(stack: stack, report: Report()).run(
                buyers: buyers, openRunStock: openRunStock, entrants: entrants, drawStock: drawStock)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            await stack.shutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        await stack.shutdown()
    }
}

/// Prints the demo's report as it goes.
struct Report {
    func section(_ title: String) { print("\n== \(title)") }
    func line(_ text: String) { print("   \(text)") }
}

/// The scripted showcase, driving the platform through its public HTTP API like real clients.
struct Showcase {
    let stack: LocalStack
    let report: Report

    func run(buyers: Int, openRunStock: Int, entrants: Int, drawStock: Int) async throws {
        report.section("fastest-shop demo — API \(stack.apiURL), mock payments \(stack.paymentsURL)")
        report.line("the mock provider declines 20%, fails 5% (retried), answers 10% 'pending' (settled by callback)")
        let (email, password) = try await DevCommand.createOperator(stack)
        let login = try await call("POST", "/v1/auth/login", body: #"{"email":"\#(email)","password":"\#(password)"}"#)
        let operatorToken = try string(login, "access_token")
        let product = try await call("POST", "/v1/products", token: operatorToken,
                                     body: #"{"name":"Retro Runner OG","price_cents":18000,"currency":"EUR"}"#)
        let productID = try int(product, "id")
        report.line("operator \(email) signed in and created product \(productID) (Retro Runner OG, 180.00 EUR)")

        try await openRun(operatorToken: operatorToken, productID: productID, buyers: buyers, stock: openRunStock)
        try await draw(operatorToken: operatorToken, productID: productID, entrants: entrants, stock: drawStock)

        report.section("Invariants (fastest-shop audit)")
        let audit = try await stack.pool.withConnection { try InvariantAudit.run($0) }
        for violation in audit.violations { report.line("VIOLATION \(violation)") }
        report.line("\(audit.dropsChecked) drops, \(audit.ordersChecked) orders, \(audit.drawsRecomputed) draws recomputed: "
            + (audit.violations.isEmpty ? "all invariants hold" : "\(audit.violations.count) violations"))
        if !audit.violations.isEmpty { throw CommandFailure(message: "demo: invariants violated") }
    }

    // MARK: open-run

    private func openRun(operatorToken: String, productID: Int, buyers: Int, stock: Int) async throws {
        report.section("Open-run: \(buyers) buyers rush \(stock) units")
        let drop = try await call("POST", "/v1/drops", token: operatorToken, body: """
            {"product_id":\(productID),"kind":"open_run","stock":\(stock),"opens_at":"\(Self.time(-1))"}
            """)
        let dropID = try int(drop, "id")
        let customers = try await makeCustomers(buyers)
        let started = ContinuousClock.now
        let answers = try await concurrently(customers) { customer in
            try await self.stack.http.execute(HTTPRequest(
                method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/purchase",
                headers: [("Authorization", "Bearer \(customer.token)")], timeoutMilliseconds: 60_000))
        }
        let seconds = started.duration(to: .now)
        let created = answers.filter { $0.status == 201 }.count
        let soldOut = answers.filter { $0.status == 409 && $0.bodyText.contains("sold-out") }.count
        report.line("\(answers.count) answers in \(seconds.formatted(.units(allowed: [.milliseconds]))): \(created) orders (201), \(soldOut) sold-out (409)")
        report.line("refusals came from the Redis admission gate; only the \(created) admitted buyers reached PostgreSQL")

        try await waitFor("open-run payments") {
            try await stack.pool.query("SELECT held FROM drops WHERE id = $1", [.int(dropID)])[0].int(0) == 0
        }
        var figures = try await dropFigures(dropID)
        report.line("payments done: \(figures.sold) paid, \(figures.available) units released by declined payments")
        if figures.available > 0 {
            let second = try await makeCustomers(200)
            let resale = try await concurrently(second) { customer in
                try await self.stack.http.execute(HTTPRequest(
                    method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/purchase",
                    headers: [("Authorization", "Bearer \(customer.token)")], timeoutMilliseconds: 60_000))
            }
            try await waitFor("second-wave payments") {
                try await stack.pool.query("SELECT held FROM drops WHERE id = $1", [.int(dropID)])[0].int(0) == 0
            }
            figures = try await dropFigures(dropID)
            report.line("a second wave of 200 buyers got \(resale.filter { $0.status == 201 }.count) released units back on sale; now \(figures.sold) of \(stock) paid")
        }
        report.line("never oversold: stock \(figures.stock) = available \(figures.available) + held \(figures.held) + sold \(figures.sold)")
    }

    // MARK: draw

    private func draw(operatorToken: String, productID: Int, entrants: Int, stock: Int) async throws {
        report.section("Draw: \(entrants) entrants for \(stock) units, waitlist of \(stock * 2)")
        let drop = try await call("POST", "/v1/drops", token: operatorToken, body: """
            {"product_id":\(productID),"kind":"draw","stock":\(stock),"waitlist_depth":\(stock * 2),\
            "opens_at":"\(Self.time(-1))","closes_at":"\(Self.time(5))"}
            """)
        let dropID = try int(drop, "id")
        let commitment = try string(drop, "commitment")
        report.line("drop \(dropID) published commitment SHA-256(seed) = \(commitment)")
        let customers = try await makeCustomers(entrants)
        let entries = try await concurrently(customers) { customer in
            try await self.stack.http.execute(HTTPRequest(
                method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/entries",
                headers: [("Authorization", "Bearer \(customer.token)"), ("Content-Type", "application/json")],
                body: Array("{}".utf8), timeoutMilliseconds: 60_000))
        }
        report.line("\(entries.filter { $0.status == 201 }.count) entries accepted (each committed before its 201)")
        report.line("the scheduler closes the drop at closes_at; a worker draws it and charges the winners…")
        try await waitFor("the draw to settle", timeout: 120) {
            try await stack.pool.query("SELECT status FROM drops WHERE id = $1", [.int(dropID)])[0].string(0) == "settled"
        }
        let auditResponse = try await call("GET", "/v1/drops/\(dropID)/audit")
        let bundle = try AuditBundle(jsonBytes: auditResponse.body)
        report.line("seed revealed: \(bundle.seed.lowercaseHex)")
        report.line("entries digest: \(bundle.entriesDigest)")
        report.line("winners (user ids): \(bundle.winners.map(String.init).joined(separator: ", "))")
        report.line("waitlist (in order): \(bundle.waitlist.map(String.init).joined(separator: ", "))")
        let orders = try await stack.pool.query("""
            SELECT r.position, o.user_id, o.status FROM drop_rankings r JOIN orders o ON o.id = r.order_id
            WHERE r.drop_id = $1 ORDER BY r.position
            """, [.int(dropID)])
        for order in orders {
            report.line("  position \(try order.int(0)): customer \(try order.int(1)) — \(try order.string(2))")
        }
        let figures = try await dropFigures(dropID)
        report.line("\(figures.sold) of \(figures.stock) units paid; declined units went to the waitlist in ranking order")
        let differences = AuditVerifier.verify(bundle)
        report.line(differences.isEmpty
            ? "recomputed from the published audit bundle: identical (try `fastest-shop verify` on GET /v1/drops/\(dropID)/audit)"
            : "AUDIT MISMATCH: \(differences.joined(separator: "; "))")
        if !differences.isEmpty { throw CommandFailure(message: "demo: the draw does not verify") }
    }

    // MARK: helpers

    private func makeCustomers(_ count: Int) async throws -> [(id: Int, token: String)] {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let emails = (0..<count).map { EmailAddress("customer-\(tag)-\($0)@demo.local")! }
        let ids = try await UserStore(pool: stack.pool).createMany(emails: emails, passwordHash: "demo-account", role: .customer)
        var customers: [(id: Int, token: String)] = []
        for id in ids {
            customers.append((id, try await stack.intake.tokens.issue(for: AuthenticatedUser(id: id, role: .customer))))
        }
        return customers
    }

    private func concurrently(
        _ customers: [(id: Int, token: String)], _ body: @escaping @Sendable ((id: Int, token: String)) async throws -> HTTPResponse
    ) async throws -> [HTTPResponse] {
        try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            for customer in customers { group.addTask { try await body(customer) } }
            var responses: [HTTPResponse] = []
            for try await response in group { responses.append(response) }
            return responses
        }
    }

    private func call(_ method: String, _ path: String, token: String? = nil, body: String? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let response = try await stack.http.execute(HTTPRequest(
            method: method, url: stack.apiURL + path, headers: headers, body: Array((body ?? "").utf8)))
        guard (200..<300).contains(response.status) else {
            throw CommandFailure(message: "demo: \(method) \(path) answered \(response.status): \(response.bodyText)")
        }
        return response
    }

    private func object(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    private func int(_ response: HTTPResponse, _ key: String) throws -> Int {
        guard let value = object(response)[key] as? Int else { throw CommandFailure(message: "demo: no \(key) in \(response.bodyText)") }
        return value
    }

    private func string(_ response: HTTPResponse, _ key: String) throws -> String {
        guard let value = object(response)[key] as? String else { throw CommandFailure(message: "demo: no \(key) in \(response.bodyText)") }
        return value
    }

    private func dropFigures(_ id: Int) async throws -> (stock: Int, available: Int, held: Int, sold: Int) {
        let row = try await stack.pool.query("SELECT stock, available, held, sold FROM drops WHERE id = $1", [.int(id)])[0]
        return (try row.int(0), try row.int(1), try row.int(2), try row.int(3))
    }

    private func waitFor(_ what: String, timeout: Double = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailure(message: "demo: timed out waiting for \(what)")
    }

    static func time(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date().addingTimeInterval(seconds))
    }
}
