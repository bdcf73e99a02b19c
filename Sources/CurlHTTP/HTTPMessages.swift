/// An outbound HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Milliseconds to wait for the TCP (and TLS) connection.
    public var connectTimeoutMilliseconds: Int
    /// Milliseconds for the whole exchange, connection included.
    public var timeoutMilliseconds: Int
    /// The local IP address the connection is bound to; nil lets the system choose. Load tests
    /// use loopback addresses (127.x.y.z) to stand for distinct clients.
    public var localAddress: String?

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        connectTimeoutMilliseconds: Int = 2000,
        timeoutMilliseconds: Int = 10_000,
        localAddress: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.localAddress = localAddress
    }
}

/// A response: status, headers in arrival order, and the body bytes.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP response. `description` never includes the request body.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Nobody listens at the address, or the connection could not be made in time.
        public static let connectFailed = Code("connect-failed")
        /// The exchange took longer than the request's timeout.
        public static let timeout = Code("timeout")
        /// Any other transport failure (reset connection, malformed response, …).
        public static let transport = Code("transport")
        /// The client is shut down.
        public static let closed = Code("closed")
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "HTTP client error (\(code.rawValue)): \(message)" }
}
