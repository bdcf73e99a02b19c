import BlockingThreads

/// Pub/sub on the blocking client's own connection and thread.
///
/// A subscribed connection may send nothing but (UN)SUBSCRIBE and PING, so it is never shared.
/// Messages are collected by polling, not by a read that blocks until one comes: hiredis gives
/// up a connection whose read timed out, and a read with no timeout would hold the thread (and
/// its shutdown) for ever. Each poll sends PING and reads up to its `pong`: every message
/// published before the PING arrives before it, and a connection that died shows at once.
extension RedisBlockingClient {
    public struct Messages: Sendable {
        /// True when this poll (re)subscribed: messages sent before it may have been missed.
        public let resubscribed: Bool
        /// Payloads published to the channel since the previous poll, in order.
        public let payloads: [[UInt8]]
    }

    /// Subscribes to `channel` when not subscribed (a new connection after a lost one), then
    /// returns what was published since the last poll. Throws when the connection fails; the
    /// next poll starts a new one.
    public func pollMessages(channel: String) async throws -> Messages {
        try await session.run { [configuration] session in
            do {
                var resubscribed = false
                if session.connection.map({ $0.isBroken }) ?? true || session.subscribedChannel != channel {
                    session.forget()
                    let connection = try session.connected(configuration)
                    try connection.write([RedisCommand("SUBSCRIBE", channel)])
                    guard case .array(let confirmation) = try connection.readReply(),
                        confirmation.first?.string == "subscribe"
                    else { throw RedisError(code: .unexpectedReply, message: "SUBSCRIBE was not confirmed") }
                    session.subscribedChannel = channel
                    resubscribed = true
                }
                let connection = try session.connected(configuration)
                try connection.write([RedisCommand("PING")])
                var payloads: [[UInt8]] = []
                while true {
                    let reply = try connection.readReply()
                    guard case .array(let parts) = reply, let kind = parts.first?.string else {
                        throw RedisError(code: .unexpectedReply, message: "unexpected reply on a subscribed connection")
                    }
                    if kind == "pong" { break }
                    if kind == "message", parts.count == 3, case .bulk(let payload) = parts[2] { payloads.append(payload) }
                }
                return Messages(resubscribed: resubscribed, payloads: payloads)
            } catch {
                session.forget()
                throw error
            }
        }
    }
}
