/// Where and how to connect. Passed to libpq as keyword/value arrays (`PQconnectdbParams`),
/// never as a string-built conninfo, so no value can inject another keyword.
public struct PostgresConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var database: String
    public var user: String
    public var password: String?
    public var applicationName: String
    /// Seconds libpq waits for a connection before giving up.
    public var connectTimeoutSeconds: Int
    /// Server-side cap on any one statement, in milliseconds; 0 disables it.
    public var statementTimeoutMilliseconds: Int
    /// Client-side cap on the wait for the server's answer to a statement, in milliseconds; nil
    /// waits as long as the server takes. A server that hangs (stopped, or behind a network that
    /// drops packets) answers nothing, not even to `statement_timeout`: past this the connection
    /// is closed and the statement fails with ``PostgresError/Code/connectionFailure``.
    public var replyTimeoutMilliseconds: Int?
    /// A primary and its standbys, tried in order (libpq's multi-host `host=a,b port=p,q`): a
    /// connection lands on whichever server `targetSessionAttributes` accepts — after a
    /// promotion, the new primary. Empty: `host` and `port` alone, exactly as before.
    public var servers: [PostgresServer]
    /// libpq's `target_session_attrs`, sent only with `servers`.
    public var targetSessionAttributes: String

    public init(
        host: String = "127.0.0.1",
        port: Int = 5432,
        database: String,
        user: String,
        password: String? = nil,
        applicationName: String = "fastest-shop",
        connectTimeoutSeconds: Int = 2,
        statementTimeoutMilliseconds: Int = 30_000,
        replyTimeoutMilliseconds: Int? = nil,
        servers: [PostgresServer] = [],
        targetSessionAttributes: String = "read-write"
    ) {
        self.servers = servers
        self.targetSessionAttributes = targetSessionAttributes
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.applicationName = applicationName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
    }

    var connectionParameters: [(String, String)] {
        var parameters: [(String, String)] =
            servers.isEmpty
            ? [("host", host), ("port", String(port))]
            : [
                ("host", servers.map(\.host).joined(separator: ",")),
                ("port", servers.map { String($0.port) }.joined(separator: ",")),
                ("target_session_attrs", targetSessionAttributes),
            ]
        parameters += [
            ("dbname", database),
            ("user", user),
            ("application_name", applicationName),
            ("connect_timeout", String(connectTimeoutSeconds)),
            // Timestamps are decoded from ISO text in UTC; the session must not depend on the
            // server's locale settings.
            ("options", "-c TimeZone=UTC -c DateStyle=ISO -c client_min_messages=warning -c statement_timeout=\(statementTimeoutMilliseconds)"),
            ("client_encoding", "UTF8"),
            // Detect a dead server on an idle connection within seconds, not hours.
            ("keepalives", "1"),
            ("keepalives_idle", "5"),
            ("keepalives_interval", "2"),
            ("keepalives_count", "3"),
        ]
        if let password { parameters.append(("password", password)) }
        return parameters
    }
}

/// Describes and mirrors itself without the password: a configuration printed into a log line,
/// or dumped with something that holds it, must not carry the secret along.
extension PostgresConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "PostgresConfiguration(\(user)@\(serversDescription)/\(database), password: \(password == nil ? "<none>" : "<redacted>"))"
    }

    public var debugDescription: String { description }

    /// The server, or the servers tried in order, for messages.
    public var serversDescription: String {
        servers.isEmpty ? "\(host):\(port)" : servers.map(\.description).joined(separator: ",") + " (\(targetSessionAttributes))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "database": database, "user": user,
                "password": password == nil ? "<none>" : "<redacted>", "applicationName": applicationName,
                "connectTimeoutSeconds": connectTimeoutSeconds, "statementTimeoutMilliseconds": statementTimeoutMilliseconds,
                "replyTimeoutMilliseconds": replyTimeoutMilliseconds as Any,
                "servers": servers.map(\.description), "targetSessionAttributes": targetSessionAttributes,
            ], displayStyle: .struct)
    }
}
