import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A minimal HTTP/1.1 load generator on SwiftNIO for benchmarks that need thousands of
/// connections at once: one connection per simulated client, requests written as prepared bytes,
/// answers parsed just enough to know the status and when the body ended. Latencies are taken on
/// the event loop, from the write to the last byte of the answer.
///
/// (The product's libcurl client serves webhooks to one provider through a few hundred
/// connections; with ten thousand connections to one host its connection cache becomes the
/// bottleneck and the benchmark would measure the client.)
final class HTTPLoadGenerator: Sendable {
    struct Answer: Sendable {
        let status: Int
        let body: String
        let nanoseconds: UInt64
    }

    private let group: MultiThreadedEventLoopGroup
    private let host: String
    private let port: Int

    init(host: String, port: Int, threads: Int = 1) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.host = host
        self.port = port
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }

    /// Opens `count` keep-alive connections, `batch` at a time (a listen backlog drops SYNs
    /// beyond its length, and each drop costs a second of retransmission).
    func connect(count: Int, batch: Int = 1000) async throws -> [any Channel] {
        var channels: [any Channel] = []
        channels.reserveCapacity(count)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ResponseReader()) }
            }
        for start in stride(from: 0, to: count, by: batch) {
            let futures = (start..<min(start + batch, count)).map { _ in bootstrap.connect(host: host, port: port) }
            for future in futures { channels.append(try await future.get()) }
        }
        return channels
    }

    /// Writes every request on its channel at once — one task per event loop writes all of its
    /// channels' requests back to back — and completes each with its answer.
    func sendAll(_ requests: [[UInt8]], on channels: [any Channel]) -> [EventLoopFuture<Answer>] {
        precondition(requests.count <= channels.count)
        var loops: [ObjectIdentifier: any EventLoop] = [:]
        var writesByLoop: [ObjectIdentifier: [(any Channel, ByteBuffer, EventLoopPromise<Answer>)]] = [:]
        var futures: [EventLoopFuture<Answer>] = []
        futures.reserveCapacity(requests.count)
        for (request, channel) in zip(requests, channels) {
            let promise = channel.eventLoop.makePromise(of: Answer.self)
            futures.append(promise.futureResult)
            let key = ObjectIdentifier(channel.eventLoop)
            loops[key] = channel.eventLoop
            writesByLoop[key, default: []].append((channel, channel.allocator.buffer(bytes: request), promise))
        }
        for (key, writes) in writesByLoop {
            loops[key]!.execute {
                for (channel, buffer, promise) in writes {
                    do {
                        let reader = try channel.pipeline.syncOperations.handler(type: ResponseReader.self)
                        reader.expect(promise, startedAt: DispatchTime.now().uptimeNanoseconds)
                        channel.writeAndFlush(buffer, promise: nil)
                    } catch {
                        promise.fail(error)
                    }
                }
            }
        }
        return futures
    }

    /// Sends `requests` over `channels`, one in flight per channel: each channel sends the next
    /// request as soon as the answer to its previous one has arrived (a closed loop, as `wrk`
    /// drives a server). Returns every answer, in no particular order.
    func closedLoop(_ requests: [[UInt8]], on channels: [any Channel]) async throws -> [Answer] {
        let next = RequestIndex()
        let runs = channels.map { channel in ClosedLoopRun(channel: channel, promise: channel.eventLoop.makePromise()) }
        return try await closingOnTimeout(channels) {
            for run in runs {
                run.channel.eventLoop.execute { self.step(run, requests, next) }
            }
            var answers: [Answer] = []
            answers.reserveCapacity(requests.count)
            for run in runs { answers += try await run.promise.futureResult.get() }
            return answers
        }
    }

    /// How long a measurement may take before its connections are closed (which fails every
    /// request still waiting): a server that stops answering without closing its connections
    /// fails the benchmark instead of hanging it. One timer for all the connections: ten
    /// thousand timers, each cancelled on its answer, would cost the generator more than the
    /// requests.
    static let measurementTimeout = TimeAmount.seconds(300)

    func closingOnTimeout<T>(_ channels: [any Channel], _ body: () async throws -> T) async throws -> T {
        let watchdog = group.next().scheduleTask(in: Self.measurementTimeout) {
            for channel in channels { channel.close(promise: nil) }
        }
        defer { watchdog.cancel() }
        return try await body()
    }

    private func step(_ run: ClosedLoopRun, _ requests: [[UInt8]], _ next: RequestIndex) {
        let index = next.take()
        guard index < requests.count else {
            run.promise.succeed(run.answers)
            return
        }
        send(requests[index], on: run.channel).whenComplete { result in
            switch result {
            case .success(let answer):
                run.answers.append(answer)
                self.step(run, requests, next)
            case .failure(let error):
                run.promise.fail(error)
            }
        }
    }

    /// Writes `request` on `channel` and completes with the answer.
    func send(_ request: [UInt8], on channel: any Channel) -> EventLoopFuture<Answer> {
        let promise = channel.eventLoop.makePromise(of: Answer.self)
        channel.eventLoop.execute {
            do {
                let reader = try channel.pipeline.syncOperations.handler(type: ResponseReader.self)
                reader.expect(promise, startedAt: DispatchTime.now().uptimeNanoseconds)
                channel.writeAndFlush(channel.allocator.buffer(bytes: request), promise: nil)
            } catch {
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    static func request(method: String, path: String, host: String, headers: [(String, String)] = [], body: String = "") -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n" + body
        return Array(text.utf8)
    }
}

/// One channel's share of a closed loop. Touched only on the channel's event loop.
private final class ClosedLoopRun: @unchecked Sendable {
    let channel: any Channel
    let promise: EventLoopPromise<[HTTPLoadGenerator.Answer]>
    var answers: [HTTPLoadGenerator.Answer] = []

    init(channel: any Channel, promise: EventLoopPromise<[HTTPLoadGenerator.Answer]>) {
        self.channel = channel
        self.promise = promise
    }
}

/// Hands out request indices to the channels of a closed loop.
private final class RequestIndex: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Collects one answer at a time: status line, headers up to the blank line, then
/// `Content-Length` bytes of body. Parses bytes in place: the generator must cost the machine as
/// little as possible, since the server under test shares it.
final class ResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var buffer: ByteBuffer?
    private var promise: EventLoopPromise<HTTPLoadGenerator.Answer>?
    private var started: UInt64 = 0

    func expect(_ promise: EventLoopPromise<HTTPLoadGenerator.Answer>, startedAt: UInt64) {
        self.promise = promise
        self.started = startedAt
        buffer?.clear()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffer == nil {
            buffer = bytes
        } else {
            buffer!.writeBuffer(&bytes)
        }
        guard let promise, let answer = complete() else { return }
        self.promise = nil
        buffer?.clear()
        promise.succeed(answer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.eof)
        promise = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.close(promise: nil)
    }

    private static let contentLength = Array("content-length:".utf8)

    /// The answer once all of it arrived.
    private func complete() -> HTTPLoadGenerator.Answer? {
        guard let buffer else { return nil }
        return buffer.withUnsafeReadableBytes { bytes -> HTTPLoadGenerator.Answer? in
            guard bytes.count >= 16 else { return nil }
            var headerEnd = -1
            var index = 0
            while index + 3 < bytes.count {
                if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                    headerEnd = index
                    break
                }
                index += 1
            }
            guard headerEnd > 0 else { return nil }
            // "HTTP/1.1 201 …": the status is bytes 9..<12.
            let status = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
            var length = 0
            var line = 0
            while line < headerEnd {
                var end = line
                while end < headerEnd && bytes[end] != 13 { end += 1 }
                if end - line > Self.contentLength.count,
                    zip(Self.contentLength, bytes[line..<(line + Self.contentLength.count)]).allSatisfy({ $0 == ($1 | 0x20) })
                {
                    var position = line + Self.contentLength.count
                    while position < end && bytes[position] == 32 { position += 1 }
                    while position < end, bytes[position] >= 48, bytes[position] <= 57 {
                        length = length * 10 + Int(bytes[position] - 48)
                        position += 1
                    }
                }
                line = end + 2
            }
            let bodyStart = headerEnd + 4
            guard bytes.count >= bodyStart + length else { return nil }
            return .init(
                status: status, body: String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self),
                nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        }
    }
}
