import ArgumentParser
import CurlHTTP
import Foundation
import Intake
import Logging
import Postgres
import ServiceLifecycle
import Settings
import ShopDomain
import Storage
import TextEncodings
import UnixSignals

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole platform locally and show it: an open-run rush and a verifiable draw, with a report of what was measured.",
        discussion:
            "Every sentence of the report is computed from what happened; a claim that does not hold is printed as FAILED and the demo exits 1.")

    @OptionGroup var settings: SettingsOptions
    @Option(help: "Buyers rushing the open-run.") var buyers = 2000
    @Option(help: "Units of the open-run.") var openRunStock = 10
    @Option(help: "Customers entering the draw.") var entrants = 300
    @Option(help: "Units of the draw.") var drawStock = 5
    @Option(help: "Share of charges the mock provider declines.") var declineRate = 0.2
    @Option(help: "Share of charges the mock provider answers with a retryable error.") var errorRate = 0.05
    @Option(help: "Share of charges the mock provider answers 'pending' (settled later by callback).") var pendingRate = 0.1
    @Flag(help: "Leave the local PostgreSQL and Redis this demo starts running (a faster next start).")
    var keepServices = false

    func run() async throws {
        var logger = Logger(label: "fastest-shop.demo")
        logger.logLevel = .error
        for (name, rate) in [("decline-rate", declineRate), ("error-rate", errorRate), ("pending-rate", pendingRate)]
        where !(0...1).contains(rate) {
            throw CommandFailure(message: "--\(name) must be between 0 and 1, got \(rate)", exitCode: 2)
        }
        let rates = LocalStack.ProviderRates(declineRate: declineRate, errorRate: errorRate, pendingRate: pendingRate)
        let stack = try await LocalStack.make(
            options: settings, apiPort: 0, paymentsPort: 0, metricsPort: 0, keepServices: keepServices, providerRates: rates,
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: stack.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let running = Task { try await group.run() }
        let showcase = Task { [buyers, openRunStock, entrants, drawStock] in
            try await stack.waitUntilReady()
            try await Showcase(stack: stack, report: Report()).run(
                buyers: buyers, openRunStock: openRunStock, entrants: entrants, drawStock: drawStock)
        }
        // Ctrl-C ends the group; the showcase then stops too, and everything is cleaned up below.
        let stopShowcase = Task {
            _ = try? await running.value
            showcase.cancel()
        }
        let outcome = await showcase.result
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        stopShowcase.cancel()
        await stack.shutdown()
        try outcome.get()
    }
}

/// Prints the demo's report as it goes, and remembers which claims failed.
final class Report: @unchecked Sendable {
    private(set) var failures: [String] = []
    private let terminal = isatty(STDOUT_FILENO) == 1
    private var progressShown = false
    private var lastPlainProgress = ContinuousClock.now - .seconds(10)
    private var lastProgressText = ""

    func section(_ title: String) {
        endProgress()
        print("\n== \(title)")
    }

    func line(_ text: String) {
        endProgress()
        print("   \(text)")
    }

    /// A claim that was checked: printed as it is when it holds, as FAILED when not.
    func check(_ holds: Bool, _ text: String, otherwise failure: @autoclosure () -> String) {
        if holds {
            line(text)
        } else {
            let message = failure()
            failures.append(message)
            line("FAILED: \(message)")
        }
    }

    /// While waiting: one line updated in place on a terminal; plain lines (at most one a
    /// second, only when the text changes) when stdout is a pipe or a file.
    func progress(_ text: String) {
        if terminal {
            print("\r\u{1B}[2K   … \(text)", terminator: "")
            fflush(nil)
            progressShown = true
        } else if text != lastProgressText && ContinuousClock.now - lastPlainProgress >= .seconds(1) {
            print("   … \(text)")
            lastPlainProgress = .now
            lastProgressText = text
        }
    }

    private func endProgress() {
        guard progressShown else { return }
        print("\r\u{1B}[2K", terminator: "")
        progressShown = false
    }
}

/// The scripted showcase, driving the platform through its public HTTP API like real clients and
/// reporting only what it measured in the answers, the database and the metrics.
struct Showcase {
    let stack: LocalStack
    let report: Report

    func run(buyers: Int, openRunStock: Int, entrants: Int, drawStock: Int) async throws {
        let rates = stack.providerRates
        report.section("fastest-shop demo — API \(stack.apiURL), mock payments \(stack.paymentsURL)")
        report.line("metrics: the intake's at \(stack.apiURL)/metrics, the workers' and scheduler's at \(stack.metricsURL)")
        report.line(
            "the mock provider is set to decline \(percent(rates.declineRate)) of charges, answer \(percent(rates.errorRate)) with a retryable error "
                + "and \(percent(rates.pendingRate)) 'pending' (settled later by a callback)")
        let (email, password) = try await DevCommand.createOperator(stack)
        let login = try await call("POST", "/v1/auth/login", body: #"{"email":"\#(email)","password":"\#(password)"}"#)
        let operatorToken = try string(login, "access_token")
        let product = try await call(
            "POST", "/v1/products", token: operatorToken,
            body: #"{"name":"Retro Runner OG","price_cents":18000,"currency":"EUR"}"#)
        let productID = try int(product, "id")
        report.line("operator \(email) signed in and created product \(productID) (Retro Runner OG, 180.00 EUR)")

        try await openRun(operatorToken: operatorToken, productID: productID, buyers: buyers, stock: openRunStock)
        try await draw(operatorToken: operatorToken, productID: productID, entrants: entrants, stock: drawStock)

        report.section("Invariants (fastest-shop audit)")
        let audit = try await stack.pool.withConnection { try InvariantAudit.run($0) }
        for violation in audit.violations { report.line("VIOLATION \(violation)") }
        report.check(
            audit.violations.isEmpty,
            "\(audit.dropsChecked) drops, \(audit.ordersChecked) orders, \(audit.drawsRecomputed) draws recomputed: all invariants hold",
            otherwise: "\(audit.violations.count) invariant violations")
        if !report.failures.isEmpty {
            throw CommandFailure(message: "demo: \(report.failures.count) claims did not hold: \(report.failures.joined(separator: "; "))")
        }
    }

    // MARK: open-run

    private func openRun(operatorToken: String, productID: Int, buyers: Int, stock: Int) async throws {
        report.section("Open-run: \(buyers) buyers rush \(stock) units")
        let drop = try await call(
            "POST", "/v1/drops", token: operatorToken,
            body: """
                {"product_id":\(productID),"kind":"open_run","stock":\(stock),"opens_at":"\(Self.time(-1))"}
                """)
        let dropID = try int(drop, "id")
        let customers = try await makeCustomers(buyers)
        let before = try await purchaseDecisions()
        let started = ContinuousClock.now
        let answers = try await concurrently(customers) { customer in
            try await self.stack.http.execute(
                HTTPRequest(
                    method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/purchase",
                    headers: [("Authorization", "Bearer \(customer.token)")], timeoutMilliseconds: 60_000))
        }
        let seconds = started.duration(to: .now)
        let after = try await purchaseDecisions()
        let created = answers.filter { $0.status == 201 }
        let soldOut = answers.filter { $0.status == 409 && $0.bodyText.contains("sold-out") }.count
        let other = answers.count - created.count - soldOut
        report.line(
            "\(answers.count) answers in \(seconds.formatted(.units(allowed: [.milliseconds]))): \(created.count) orders (201), "
                + "\(soldOut) sold-out (409)" + (other > 0 ? ", \(other) other answers" : ""))

        let byGate = after.gate - before.gate
        let inPostgres = after.postgres - before.postgres
        report.line(
            "\(byGate) purchases were answered by the Redis admission gate alone; \(inPostgres) were decided in PostgreSQL "
                + "(strategy `\(stack.settings.openRunStrategy.rawValue)`, from /metrics)")

        let orderIDs = Set(try await stack.pool.query("SELECT id FROM orders WHERE drop_id = $1", [.int(dropID)]).map { try $0.int(0) })
        let answeredIDs = try created.map { try int($0, "id") }
        let missing = answeredIDs.filter { !orderIDs.contains($0) }
        report.check(
            missing.isEmpty, "all \(answeredIDs.count) orders answered 201 are in PostgreSQL",
            otherwise: "\(missing.count) orders answered 201 are not in PostgreSQL: \(missing.prefix(5))")

        try await waitFor("open-run payments") {
            let figures = try await dropFigures(dropID)
            return (figures.held == 0, "open-run payments: \(figures.sold) paid, \(figures.held) awaiting payment")
        }
        var figures = try await dropFigures(dropID)
        var orders = try await orderCounts(dropID)
        let releasedDuringRush = orders.released
        report.line("payments settled: \(orders.paid) paid, \(orders.failed) failed, \(orders.expired) expired")
        if created.count > stock {
            report.check(
                created.count - stock <= releasedDuringRush,
                "\(created.count) orders for \(stock) units: \(releasedDuringRush) payments failed or expired during the rush and "
                    + "their units went back on sale, so \(created.count - stock) units were sold a second time",
                otherwise: "\(created.count) orders for \(stock) units but only \(releasedDuringRush) units were released")
        } else if releasedDuringRush > 0 {
            report.line("\(releasedDuringRush) failed or expired payments put their units back on sale after the rush")
        } else {
            report.line("no payment failed or expired: every order was paid")
        }
        if figures.available > 0 {
            let second = try await makeCustomers(200)
            let resale = try await concurrently(second) { customer in
                try await self.stack.http.execute(
                    HTTPRequest(
                        method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/purchase",
                        headers: [("Authorization", "Bearer \(customer.token)")], timeoutMilliseconds: 60_000))
            }
            let available = figures.available
            try await waitFor("second-wave payments") {
                let figures = try await dropFigures(dropID)
                return (figures.held == 0, "second-wave payments: \(figures.held) awaiting payment")
            }
            figures = try await dropFigures(dropID)
            orders = try await orderCounts(dropID)
            report.line(
                "a second wave of 200 buyers got \(resale.filter { $0.status == 201 }.count) orders for the \(available) units "
                    + "back on sale; now \(figures.sold) of \(stock) paid")
        }
        report.check(
            figures.stock == figures.available + figures.held + figures.sold && orders.paid == figures.sold && orders.paid <= stock,
            "never oversold: stock \(figures.stock) = available \(figures.available) + held \(figures.held) + sold \(figures.sold); \(orders.paid) paid orders",
            otherwise: "stock figures do not add up: stock \(figures.stock), available \(figures.available), held \(figures.held), "
                + "sold \(figures.sold), paid orders \(orders.paid)")
    }

    // MARK: draw

    private func draw(operatorToken: String, productID: Int, entrants: Int, stock: Int) async throws {
        let depth = stock * 2
        report.section("Draw: \(entrants) entrants for \(stock) units, waitlist of \(depth)")
        let drop = try await call(
            "POST", "/v1/drops", token: operatorToken,
            body: """
                {"product_id":\(productID),"kind":"draw","stock":\(stock),"waitlist_depth":\(depth),\
                "opens_at":"\(Self.time(-1))","closes_at":"\(Self.time(5))"}
                """)
        let dropID = try int(drop, "id")
        let commitment = try string(drop, "commitment")
        report.line("drop \(dropID) published commitment SHA-256(seed) = \(commitment)")
        let customers = try await makeCustomers(entrants)
        let entries = try await concurrently(customers) { customer in
            try await self.stack.http.execute(
                HTTPRequest(
                    method: "POST", url: self.stack.apiURL + "/v1/drops/\(dropID)/entries",
                    headers: [("Authorization", "Bearer \(customer.token)"), ("Content-Type", "application/json")],
                    body: Array("{}".utf8), timeoutMilliseconds: 60_000))
        }
        let accepted = entries.filter { $0.status == 201 }.count
        let stored = try await stack.pool.query("SELECT count(*) FROM entries WHERE drop_id = $1", [.int(dropID)])[0].int(0)
        report.check(
            stored == accepted, "\(accepted) entries accepted (201); PostgreSQL holds \(stored) entries for the drop",
            otherwise: "\(accepted) entries answered 201 but PostgreSQL holds \(stored)")
        try await waitFor("the draw to settle", timeout: 120) {
            let status = try await stack.pool.query("SELECT status FROM drops WHERE id = $1", [.int(dropID)])[0].string(0)
            let figures = try await dropFigures(dropID)
            return (status == "settled", "drop \(dropID) is \(status): \(figures.sold) paid, \(figures.held) awaiting payment")
        }
        let auditResponse = try await call("GET", "/v1/drops/\(dropID)/audit")
        let bundle = try AuditBundle(jsonBytes: auditResponse.body)
        report.line("the scheduler closed the drop and a worker drew it; seed revealed: \(bundle.seed.lowercaseHex)")
        report.line("entries digest: \(bundle.entriesDigest)")
        report.line("winners (user ids): \(bundle.winners.map(String.init).joined(separator: ", "))")
        report.line("waitlist (in order): \(bundle.waitlist.map(String.init).joined(separator: ", "))")
        let ranked = try await stack.pool.query(
            """
            SELECT r.position, r.user_id, o.status FROM drop_rankings r LEFT JOIN orders o ON o.id = r.order_id
            WHERE r.drop_id = $1 ORDER BY r.position
            """, [.int(dropID)])
        var offered: [(position: Int, user: Int, status: String)] = []
        for row in ranked where !row.isNull(2) {
            offered.append((try row.int(0), try row.int(1), try row.string(2)))
        }
        for order in offered {
            report.line("  position \(order.position): customer \(order.user) — \(order.status)")
        }
        let figures = try await dropFigures(dropID)
        let released = offered.filter { $0.status == "failed" || $0.status == "expired" }.count
        let promoted = offered.filter { $0.position >= stock }.map(\.position)
        // Units released by failed payments go down the waitlist in ranking order: the offers
        // made are exactly positions 0, 1, 2, … with no gap, one beyond the winners per release
        // (as far as the waitlist reaches).
        let contiguous = offered.map(\.position) == Array(0..<offered.count)
        let expectedPromotions = min(released, bundle.waitlist.count)
        if released == 0 {
            report.check(
                promoted.isEmpty, "no payment failed or expired, so nobody on the waitlist was offered a unit",
                otherwise: "no payment failed, yet waitlist positions \(promoted) were offered a unit")
        } else {
            report.check(
                contiguous && promoted.count == expectedPromotions,
                "\(released) payments failed or expired; their units went to the first \(promoted.count) on the waitlist in ranking order "
                    + "(positions \(promoted.map(String.init).joined(separator: ", ")))",
                otherwise: "\(released) payments failed or expired, but the offers went to positions \(offered.map(\.position)) "
                    + "(expected \(expectedPromotions) promotions in ranking order)")
        }
        report.line("\(figures.sold) of \(figures.stock) units paid, \(figures.available) unsold")
        let differences = AuditVerifier.verify(bundle)
        report.check(
            differences.isEmpty,
            "recomputed from the published audit bundle: identical (try `fastest-shop verify` on GET /v1/drops/\(dropID)/audit)",
            otherwise: "the audit bundle does not verify: \(differences.joined(separator: "; "))")
    }

    /// The intake's purchase decisions so far, read from `/metrics`.
    private func purchaseDecisions() async throws -> (gate: Int, postgres: Int) {
        let text = try await call("GET", "/metrics").bodyText
        func value(_ by: String) -> Int {
            let prefix = "intake_purchase_decisions_total{by=\"\(by)\"} "
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
            return Int(Double(line.dropFirst(prefix.count)) ?? 0)
        }
        return (value("gate"), value("postgres"))
    }

    private func orderCounts(_ dropID: Int) async throws -> (paid: Int, failed: Int, expired: Int, released: Int) {
        var counts: [String: Int] = [:]
        for row in try await stack.pool.query("SELECT status, count(*) FROM orders WHERE drop_id = $1 GROUP BY status", [.int(dropID)]) {
            counts[try row.string(0)] = try row.int(1)
        }
        let (paid, failed, expired) = (counts["paid"] ?? 0, counts["failed"] ?? 0, counts["expired"] ?? 0)
        return (paid, failed, expired, failed + expired)
    }

    private func percent(_ rate: Double) -> String { "\(Int((rate * 100).rounded()))%" }

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
        let response = try await stack.http.execute(
            HTTPRequest(
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

    /// Polls `condition` (which also says where things stand) until it holds, showing progress.
    private func waitFor(_ what: String, timeout: Double = 60, _ condition: () async throws -> (Bool, String)) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            let (done, state) = try await condition()
            if done { return }
            report.progress(state)
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
