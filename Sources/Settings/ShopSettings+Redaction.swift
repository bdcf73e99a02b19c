/// Secrets never reach a log line or a dump. ServiceLifecycle, for one, logs every service it
/// starts with its description at debug level, and a service that holds the settings would print
/// them field by field. The settings that hold a secret therefore describe and mirror themselves
/// with the secret replaced by a marker.
protocol DescribedWithoutSecrets: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {}

extension DescribedWithoutSecrets {
    public var description: String {
        let fields = customMirror.children.map { child in
            "\(child.label ?? "_"): \(child.value is String ? String(reflecting: child.value) : String(describing: child.value))"
        }
        return "\(Self.self)(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}

/// Stands for a secret in descriptions: says whether one is set, never what it is.
struct RedactedSecret: CustomStringConvertible, Sendable {
    let isSet: Bool
    init(_ secret: String?) { isSet = !(secret ?? "").isEmpty }
    var description: String { isSet ? "<redacted>" : "<none>" }
}

extension ShopSettings.Postgres: DescribedWithoutSecrets {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "database": database, "user": user, "password": RedactedSecret(password),
                "poolSize": poolSize, "publicPoolSize": publicPoolSize, "acquireTimeoutMilliseconds": acquireTimeoutMilliseconds,
                "connectTimeoutSeconds": connectTimeoutSeconds,
                "statementTimeoutMilliseconds": statementTimeoutMilliseconds,
                "replyTimeoutMilliseconds": replyTimeoutMilliseconds,
                "hosts": hosts, "targetSessionAttributes": targetSessionAttributes,
            ], displayStyle: .struct)
    }
}

extension ShopSettings.Redis: DescribedWithoutSecrets {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": host, "port": port, "password": RedactedSecret(password), "connections": connections,
                "commandTimeoutMilliseconds": commandTimeoutMilliseconds, "keyPrefix": keyPrefix,
                "cluster": cluster, "clusterNodes": clusterNodes, "clusterRetryMilliseconds": clusterRetryMilliseconds,
            ], displayStyle: .struct)
    }
}

extension ShopSettings.Auth: DescribedWithoutSecrets {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "jwtSecret": RedactedSecret(jwtSecret), "tokenTTLSeconds": tokenTTLSeconds, "bcryptCost": bcryptCost,
            ], displayStyle: .struct)
    }
}

extension ShopSettings.Payments: DescribedWithoutSecrets {
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": url, "secret": RedactedSecret(secret), "callbackSecret": RedactedSecret(callbackSecret),
                "timeoutMilliseconds": timeoutMilliseconds, "connectTimeoutMilliseconds": connectTimeoutMilliseconds,
                "windowSeconds": windowSeconds,
            ], displayStyle: .struct)
    }
}
