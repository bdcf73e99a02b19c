/// One unit of work as it travels through Redis.
///
/// Encoded as one line of text, `v1|id|kind|queue|attempt|max_attempts|visibility_ms|enqueued_ms|unique_key|payload`,
/// so that the Lua scripts can read the fields they need (id, queue, visibility, unique key) with
/// one pattern match and the worker can decode it without a JSON parser. Ids, kinds, queues and
/// unique keys never contain `|`; the payload (JSON text) comes last and may contain anything.
public struct Job: Sendable, Equatable {
    public let id: String
    public let kind: String
    public let queue: String
    /// 1 for the first run, 2 for the first retry, …
    public let attempt: Int
    public let maxAttempts: Int
    /// How long after its worker's last heartbeat the job is handed to another worker.
    public let visibilityMilliseconds: Int
    /// When the job was first enqueued (Unix milliseconds); kept across retries.
    public let enqueuedAtMilliseconds: Int
    /// While a job with this key waits or runs, enqueueing another with the same key is a no-op.
    public let uniqueKey: String?
    public let payload: String

    public init(
        id: String, kind: String, queue: String, attempt: Int, maxAttempts: Int,
        visibilityMilliseconds: Int, enqueuedAtMilliseconds: Int, uniqueKey: String?, payload: String
    ) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.visibilityMilliseconds = visibilityMilliseconds
        self.enqueuedAtMilliseconds = enqueuedAtMilliseconds
        self.uniqueKey = uniqueKey
        self.payload = payload
    }

    /// The same job, for its next attempt.
    public func nextAttempt() -> Job {
        Job(
            id: id, kind: kind, queue: queue, attempt: attempt + 1, maxAttempts: maxAttempts,
            visibilityMilliseconds: visibilityMilliseconds, enqueuedAtMilliseconds: enqueuedAtMilliseconds,
            uniqueKey: uniqueKey, payload: payload)
    }

    public var isLastAttempt: Bool { attempt >= maxAttempts }
}

extension Job {
    static let version: [UInt8] = Array("v1".utf8)
    static let separator = UInt8(ascii: "|")

    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + id.utf8.count + kind.utf8.count + queue.utf8.count + payload.utf8.count)
        bytes.append(contentsOf: Self.version)
        for field in [
            id, kind, queue, String(attempt), String(maxAttempts), String(visibilityMilliseconds),
            String(enqueuedAtMilliseconds), uniqueKey ?? "",
        ] {
            bytes.append(Self.separator)
            bytes.append(contentsOf: field.utf8)
        }
        bytes.append(Self.separator)
        bytes.append(contentsOf: payload.utf8)
        return bytes
    }

    /// Decodes an envelope; nil for anything that is not a v1 envelope.
    public init?(encoded bytes: [UInt8]) {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(10)
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex && fields.count < 9 {
            if bytes[index] == Self.separator {
                fields.append(bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        guard fields.count == 9, fields[0].elementsEqual(Self.version) else { return nil }
        let payload = bytes[start...]
        func text(_ slice: ArraySlice<UInt8>) -> String { String(decoding: slice, as: UTF8.self) }
        func number(_ slice: ArraySlice<UInt8>) -> Int? {
            guard !slice.isEmpty else { return nil }
            var value = 0
            for byte in slice {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value &* 10 &+ Int(byte - 48)
            }
            return value
        }
        guard let attempt = number(fields[4]), let maxAttempts = number(fields[5]),
            let visibility = number(fields[6]), let enqueuedAt = number(fields[7])
        else { return nil }
        self.init(
            id: text(fields[1]), kind: text(fields[2]), queue: text(fields[3]), attempt: attempt,
            maxAttempts: maxAttempts, visibilityMilliseconds: visibility, enqueuedAtMilliseconds: enqueuedAt,
            uniqueKey: fields[8].isEmpty ? nil : text(fields[8]), payload: text(payload))
    }
}
