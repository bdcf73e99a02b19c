import NIOCore
import Synchronization

/// Open connections per client address, across all of serve's event loops.
final class ConnectionCounter: Sendable {
    let maxPerAddress: Int
    private let counts = Mutex<[ClientAddress: Int]>([:])

    init(maxPerAddress: Int) { self.maxPerAddress = maxPerAddress }

    /// Counts a new connection from `address`; false (not counted) when the address is at its cap.
    func open(_ address: ClientAddress) -> Bool {
        counts.withLock { counts in
            let open = counts[address, default: 0]
            guard open < maxPerAddress else { return false }
            counts[address] = open + 1
            return true
        }
    }

    func close(_ address: ClientAddress) {
        counts.withLock { counts in
            let open = counts[address, default: 1] - 1
            counts[address] = open > 0 ? open : nil
        }
    }
}

/// Guards one connection, closest to the socket: refuses it when its address already holds
/// `http.max_connections_per_address` connections, and closes it when a request's head has
/// not arrived `http.header_timeout_s` after its first byte (a slowloris client trickling its
/// headers), however long the idle timeout.
///
/// It sees raw bytes, so it finds a head's end (an empty line) itself; after a response is
/// written the next bytes start the next request's clock. A connection that sends nothing is
/// the idle timeout's (Hummingbird's), not this one's.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let counter: ConnectionCounter
    private let headerTimeout: TimeAmount
    private var address: ClientAddress?
    private var awaitingHead = true
    private var headerTimer: Scheduled<Void>?
    /// The last bytes read while awaiting a head, so an empty line split across reads is found.
    private var previous: (UInt8, UInt8, UInt8) = (0, 0, 0)

    init(counter: ConnectionCounter, headerTimeout: TimeAmount) {
        self.counter = counter
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = ClientAddress(context.channel.remoteAddress)
        if counter.open(address) {
            self.address = address
        } else {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead {
            if endsHead(unwrapInboundIn(data)) {
                headerTimer?.cancel()
                headerTimer = nil
                awaitingHead = false
            } else if headerTimer == nil {
                let channel = context.channel
                headerTimer = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response: the request was read; the next bytes are the next request's.
        awaitingHead = true
        previous = (0, 0, 0)
        context.write(data, promise: promise)
    }

    /// Whether `buffer` holds the empty line that ends a head (CRLF CRLF, or LF LF).
    private func endsHead(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var (a, b, c) = previous
            for byte in bytes {
                if byte == 10 && (c == 10 || (c == 13 && b == 10 && (a == 13 || a == 10))) {
                    previous = (0, 0, 0)
                    return true
                }
                (a, b, c) = (b, c, byte)
            }
            previous = (a, b, c)
            return false
        }
    }

    private func release() {
        headerTimer?.cancel()
        headerTimer = nil
        if let address {
            counter.close(address)
            self.address = nil
        }
    }
}

/// Hummingbird adds its extra handlers after HTTP decoding; this one puts a ``ConnectionGuard``
/// in front of the decoder, where the raw bytes are, and otherwise passes everything on.
final class ConnectionGuardInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let counter: ConnectionCounter
    private let headerTimeout: TimeAmount

    init(counter: ConnectionCounter, headerTimeout: TimeAmount) {
        self.counter = counter
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        do {
            try context.pipeline.syncOperations.addHandler(
                ConnectionGuard(counter: counter, headerTimeout: headerTimeout), position: .first)
        } catch {
            context.close(promise: nil)
        }
    }
}
