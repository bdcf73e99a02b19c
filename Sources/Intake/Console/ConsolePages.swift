import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The console's templates (resources of this module, `Console/Templates`) and how a page is
/// answered: HTML that no other site may frame or script, and that no cache keeps.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    static func load() async throws -> ConsolePages {
        guard let directory = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw ConsoleTemplatesMissing()
        }
        return ConsolePages(library: try await MustacheLibrary(directory: directory.path))
    }

    /// What every page shows around its content (the header, the title, a notice). Templates
    /// open `{{#content}}`, so the content's fields come first and these are found behind them.
    struct Chrome {
        let title: String
        let signedIn: Bool
        let csrf: String
        var notice: String? = nil
        var error: String? = nil
        let content: Any
    }

    static let securityHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        // Inline styles and SVG only: no script may run, no form may post elsewhere, no site may frame a page.
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    func render(_ template: String, _ chrome: Chrome, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        // Mustache escapes every {{value}}; only the server-drawn SVG charts use {{{…}}}.
        let html = library.render(chrome, withTemplate: template) ?? "template \(template) is missing"
        var headers = Self.securityHeaders
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with one sentence and a way back: refusals and errors.
    func message(_ title: String, _ message: String, status: HTTPResponse.Status, back: String, session: ConsoleSession?) -> Response {
        struct Message {
            let message: String
            let back: String
        }
        return render(
            "message",
            Chrome(title: title, signedIn: session != nil, csrf: session?.csrfToken ?? "", content: Message(message: message, back: back)),
            status: status)
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }
}

struct ConsoleTemplatesMissing: Error, CustomStringConvertible {
    var description: String { "the console's templates are not in the module's resources" }
}
