import Foundation
import HTTPTypes
import Hummingbird
import JobQueue
import OpenRunGate
import Postgres
import ShopDomain
import Storage

/// The operator console (docs/contract.md, "Operator console") under `/console`: server-rendered pages
/// over what the API and the queues know, and the operators' actions. Not part of the JSON API, so not
/// in the OpenAPI document.
///
/// Sign-in is a session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` when the request came
/// through TLS) naming a session in Redis (``ConsoleSessions``). Every form that changes state
/// carries the session's CSRF token and is refused without it; the sign-in form, which has no
/// session yet, carries a token matched against a cookie of its own.
struct ConsoleRoutes: Sendable {
    let pages: ConsolePages
    let sessions: ConsoleSessions
    let users: UserStore
    let hasher: PasswordHasher
    let drops: DropStore
    let listings: ListingStore
    let figures: ConsoleFigures
    /// Told of the drop changes made here (close now, beacon), so no serve keeps an old copy.
    let localReads: CacheInvalidations
    let pool: PostgresPool
    let queue: JobQueue
    let gate: AdmissionGate
    let actions: OperatorActions
    let maxBodyBytes: Int

    static let sessionCookie = "fs_console"
    static let loginCookie = "fs_console_login"

    typealias Handler = @Sendable (Request, IntakeRequestContext) async throws -> Response
    typealias Page = @Sendable (Request, IntakeRequestContext, ConsoleSession) async throws -> Response
    typealias Action = @Sendable (Request, IntakeRequestContext, ConsoleSession, ConsoleForm) async throws -> Response

    func addRoutes(to router: some RouterMethods<IntakeRequestContext>) {
        router.get("/console/login", use: loginPage)
        router.post("/console/login", use: login)
        router.post("/console/logout", use: action(logout))
        router.get("/console", use: page(overview))
        router.get("/console/drops", use: page(dropList))
        router.post("/console/drops", use: action(createDrop))
        router.get("/console/drops/{id}", use: page(dropDetail))
        router.post("/console/drops/{id}/close", use: action(closeDrop))
        router.post("/console/drops/{id}/beacon", use: action(setBeacon))
        router.post("/console/drops/{id}/cancel", use: action(cancelDrop))
        router.post("/console/orders/{id}/refund", use: action(refundOrder))
        router.get("/console/queues", use: page(queues))
        router.post("/console/queues/dead/retry-all", use: action(retryAllDead))
        router.post("/console/queues/dead/purge", use: action(purgeDead))
        router.post("/console/queues/dead/{job}/retry", use: action(retryDead))
        router.post("/console/queues/dead/{job}/delete", use: action(deleteDead))
        router.get("/console/payments", use: page(payments))
    }

    // MARK: sessions

    /// A page for signed-in operators; anyone else is sent to sign in.
    func page(_ body: @escaping Page) -> Handler {
        { [sessions, pages] request, context in
            guard let id = request.cookies[Self.sessionCookie]?.value, let session = try await sessions.session(id: id) else {
                return ConsolePages.redirect("/console/login")
            }
            do {
                return try await body(request, context, session)
            } catch let problem as Problem where !problem.isServerFault {
                return pages.message(problem.code.title, problem.detail, status: problem.status, back: "/console", session: session)
            }
        }
    }

    /// A form that changes state: a signed-in operator's, with the session's CSRF token.
    func action(_ body: @escaping Action) -> Handler {
        page { [pages, maxBodyBytes] request, context, session in
            let form = ConsoleForm(String(buffer: try await request.body.collect(upTo: maxBodyBytes)))
            guard let token = form["csrf"], ConsoleSessions.sameToken(token, session.csrfToken) else {
                return pages.message(
                    "Refused",
                    "This form did not come from your console session (its CSRF token is missing or wrong). Reload the page and try again.",
                    status: .forbidden, back: "/console", session: session)
            }
            return try await body(request, context, session, form)
        }
    }

    /// `Secure` when the request reached us through TLS (a proxy in front says so).
    static func cookie(_ name: String, _ value: String, maxAge: Int, request: Request) -> HTTPFields {
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https" || request.uri.scheme == .https
        let text = "\(name)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
        return [.setCookie: text]
    }

    @Sendable func loginPage(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        if let id = request.cookies[Self.sessionCookie]?.value, try await sessions.session(id: id) != nil {
            return ConsolePages.redirect("/console")
        }
        return signInForm(request, email: "", error: nil, status: .ok)
    }

    /// The sign-in form with a fresh token in it and in its cookie.
    func signInForm(_ request: Request, email: String, error: String?, status: HTTPResponse.Status) -> Response {
        struct Login { let email: String }
        let token = ConsoleSessions.randomToken()
        return pages.render(
            "login", ConsolePages.Chrome(title: "Sign in", signedIn: false, csrf: token, error: error, content: Login(email: email)),
            status: status, headers: Self.cookie(Self.loginCookie, token, maxAge: 3600, request: request))
    }

    @Sendable func login(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let form = ConsoleForm(String(buffer: try await request.body.collect(upTo: maxBodyBytes)))
        guard let token = form["csrf"], let cookie = request.cookies[Self.loginCookie]?.value,
            ConsoleSessions.isWellFormed(cookie), ConsoleSessions.sameToken(token, cookie)
        else {
            return signInForm(request, email: "", error: "The sign-in form expired. Please try again.", status: .forbidden)
        }
        let email = form["email"] ?? ""
        var credentials: StoredCredentials?
        if let address = EmailAddress(email) { credentials = try await users.credentials(email: address) }
        // The hash is checked even for an unknown email, so timing tells nothing about accounts.
        let matches = try await hasher.verify(form["password"] ?? "", against: credentials?.passwordHash)
        // A customer's right password opens nothing here, and is told so in the same words.
        guard matches, let credentials, credentials.role == .operator, !credentials.disabled else {
            return signInForm(
                request, email: email, error: "Wrong email or password, or not an operator account.", status: .unauthorized)
        }
        let started = try await sessions.start(userID: credentials.userID)
        var headers = Self.cookie(Self.sessionCookie, started.id, maxAge: sessions.lifetimeSeconds, request: request)
        headers.append(contentsOf: Self.cookie(Self.loginCookie, "", maxAge: 0, request: request))
        return ConsolePages.redirect("/console", headers: headers)
    }

    @Sendable func logout(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response {
        if let id = request.cookies[Self.sessionCookie]?.value { try await sessions.end(id: id) }
        return ConsolePages.redirect("/console/login", headers: Self.cookie(Self.sessionCookie, "", maxAge: 0, request: request))
    }

    func chrome(_ title: String, _ session: ConsoleSession, _ request: Request, content: Any) -> ConsolePages.Chrome {
        ConsolePages.Chrome(
            title: title, signedIn: true, csrf: session.csrfToken,
            notice: request.uri.queryParameters["done"].flatMap { Self.notices[String($0)] }, content: content)
    }

    /// What an action's redirect asks the next page to say (`?done=`): fixed sentences, so no
    /// text from a link reaches the page.
    static let notices: [String: String] = [
        "created": "The drop was created.",
        "closing": "The drop closes now: the scheduler moves it on its next tick and the worker draws it.",
        "beacon": "The beacon was set.",
        "cancelled": "The drop was cancelled: unpaid orders are void, paid ones are being refunded.",
        "refunding": "The order is being refunded.",
        "retried": "The job was re-queued.",
        "retried-all": "The dead jobs were re-queued.",
        "deleted": "The job was deleted.",
        "purged": "The dead jobs were purged.",
    ]
}
