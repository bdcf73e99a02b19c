import Foundation
import NIOCore
import NIOPosix

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

/// Collects one answer at a time: status line, headers up to the blank line, then
/// `Content-Length` bytes of body.
private final class ResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var buffer: [UInt8] = []
    private var promise: EventLoopPromise<HTTPLoadGenerator.Answer>?
    private var started: UInt64 = 0

    func expect(_ promise: EventLoopPromise<HTTPLoadGenerator.Answer>, startedAt: UInt64) {
        self.promise = promise
        self.started = startedAt
        buffer.removeAll(keepingCapacity: true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.append(contentsOf: bytes.readBytes(length: bytes.readableBytes) ?? [])
        guard let promise, let headerEnd = headerEnd() else { return }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var length = 0
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let bodyStart = headerEnd + 4
        guard buffer.count >= bodyStart + length else { return }
        let body = String(decoding: buffer[bodyStart..<(bodyStart + length)], as: UTF8.self)
        self.promise = nil
        promise.succeed(.init(status: status, body: body, nanoseconds: DispatchTime.now().uptimeNanoseconds - started))
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

    private func headerEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}
