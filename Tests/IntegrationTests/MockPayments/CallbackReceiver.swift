import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A small HTTP server standing in for our `/v1/payments/callback`: it records every delivery
/// and answers each with the status `answer` gives for its number (1 for the first).
final class CallbackReceiver: Sendable {
    struct Delivery: Sendable {
        let webhookID: String?
        let timestamp: String?
        let signature: String?
        let body: [UInt8]
    }

    private let recorded = Mutex<[Delivery]>([])
    private let answer: @Sendable (Int) -> HTTPResponse.Status

    init(answer: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .noContent }) {
        self.answer = answer
    }

    var deliveries: [Delivery] { recorded.withLock { $0 } }

    /// Runs the receiver on a free port while `body` runs; `body` gets the callback URL.
    func run<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/callback") { request, _ -> Response in
            let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            let delivery = Delivery(
                webhookID: request.headers[HTTPField.Name("webhook-id")!],
                timestamp: request.headers[HTTPField.Name("webhook-timestamp")!],
                signature: request.headers[HTTPField.Name("webhook-signature")!],
                body: bytes)
            let number = self.recorded.withLock { deliveries in
                deliveries.append(delivery)
                return deliveries.count
            }
            return Response(status: self.answer(number))
        }
        let (ports, announce) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                announce.yield(channel.localAddress?.port ?? 0)
                announce.finish()
            },
            logger: quietLogger)
        return try await withServiceGroup([application]) {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw UnexpectedResponse(description: "the receiver never listened") }
            return try await body("http://127.0.0.1:\(port)/callback")
        }
    }
}
