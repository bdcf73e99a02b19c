import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A real HTTP server in the test process, on a port the system picks, for HTTP client tests.
///
/// Routes:
/// - `/status/{code}`: answers with that status and the body `status {code}`.
/// - `/echo` (any method): the request body back; every request header `x-…` back as
///   `x-echo-…`; the method as `x-method`.
/// - `/sleep/{ms}`: answers after that many milliseconds.
/// - `/peer`: the client's TCP port as the body and as `x-peer-port`, so a test can tell which
///   connection carried a request (one port = one connection).
struct LocalHTTPServer: Sendable {
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The request context: the core storage plus the client's port, read off the channel.
    struct Context: RequestContext {
        var coreContext: CoreRequestContextStorage
        let peerPort: Int?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            peerPort = source.channel.remoteAddress?.port
        }
    }

    static func router() -> Router<Context> {
        let router = Router(context: Context.self)
        router.get("status/:code") { _, context -> Response in
            let code = try context.parameters.require("code", as: Int.self)
            return Response(
                status: .init(code: code),
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
        }
        let echo: @Sendable (Request, Context) async throws -> Response = { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            var headers: HTTPFields = [:]
            for field in request.headers where field.name.canonicalName.hasPrefix("x-") {
                headers.append(HTTPField(name: HTTPField.Name("x-echo-" + field.name.canonicalName)!, value: field.value))
            }
            headers.append(HTTPField(name: HTTPField.Name("x-method")!, value: request.method.rawValue))
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("echo", method: method, use: echo)
        }
        router.get("sleep/:ms") { _, context -> String in
            let milliseconds = try context.parameters.require("ms", as: Int.self)
            try await Task.sleep(for: .milliseconds(milliseconds))
            return "slept"
        }
        router.get("peer") { _, context -> Response in
            let port = context.peerPort.map(String.init) ?? "unknown"
            return Response(
                status: .ok,
                headers: [HTTPField.Name("x-peer-port")!: port],
                body: .init(byteBuffer: ByteBuffer(string: port)))
        }
        return router
    }
}

/// Runs `body` with a ``LocalHTTPServer`` listening, then shuts it down gracefully.
func withLocalHTTPServer<T>(_ body: (LocalHTTPServer) async throws -> T) async throws -> T {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "test-http-server")
    logger.logLevel = .warning
    let application = Application(
        router: LocalHTTPServer.router(),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            if let port = channel.localAddress?.port { portContinuation.yield(port) }
            portContinuation.finish()
        },
        logger: logger)
    let services = ServiceGroup(
        configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
    let server = Task {
        defer { portContinuation.finish() }
        try await services.run()
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else {
        // The server ended before it listened: its error says why.
        try await server.value
        throw LocalHTTPServerError()
    }
    let result: Result<T, any Error>
    do {
        result = .success(try await body(LocalHTTPServer(port: port)))
    } catch {
        result = .failure(error)
    }
    await services.triggerGracefulShutdown()
    try await server.value
    return try result.get()
}

struct LocalHTTPServerError: Error, CustomStringConvertible {
    var description: String { "the test HTTP server did not start" }
}
