import CurlHTTP
import Foundation
import Logging
import ServiceLifecycle
import ShopDomain

/// Sends the callbacks of pending charges, signed with the provider's secret, retrying with
/// exponential backoff until the receiver answers 2xx or the attempts run out.
///
/// Runs as a service beside the HTTP server. On graceful shutdown, callbacks still waiting for
/// their delay or a delivery are dropped, as they would be by a provider that went away.
final class CallbackSender: Service {
    private let url: String
    private let secret: String
    private let delayMilliseconds: Int
    private let lateDelayMilliseconds: Int
    private let attempts: Int
    private let backoffMilliseconds: Int
    private let timeoutMilliseconds: Int
    private let ledger: ChargeLedger
    private let logger: Logger
    private let scheduled: AsyncStream<PendingCallback>
    private let scheduler: AsyncStream<PendingCallback>.Continuation

    /// The longest wait between two attempts.
    private static let maxBackoffMilliseconds = 60_000

    init(configuration: MockPaymentsConfiguration, ledger: ChargeLedger, logger: Logger) {
        url = configuration.callbackURL
        secret = configuration.callbackSecret
        delayMilliseconds = configuration.callbackDelayMilliseconds
        lateDelayMilliseconds = configuration.lateCallbackDelayMilliseconds
        attempts = configuration.callbackAttempts
        backoffMilliseconds = configuration.callbackBackoffMilliseconds
        timeoutMilliseconds = configuration.callbackTimeoutMilliseconds
        self.ledger = ledger
        self.logger = logger
        (scheduled, scheduler) = AsyncStream.makeStream()
    }

    func schedule(_ callback: PendingCallback) {
        scheduler.yield(callback)
    }

    func run() async throws {
        let client = CurlHTTPClient(name: "mock-payments-callbacks")
        await withDiscardingTaskGroup { group in
            for await callback in scheduled.cancelOnGracefulShutdown() {
                group.addTask { await self.send(callback, client: client) }
            }
            group.cancelAll()
            // Fails the deliveries in flight at once (the client does not observe cancellation).
            client.shutdown()
        }
        scheduler.finish()
    }

    private func send(_ callback: PendingCallback, client: CurlHTTPClient) async {
        do {
            try await Task.sleep(for: .milliseconds(callback.late ? lateDelayMilliseconds : delayMilliseconds))
        } catch {
            return
        }
        // The charge completes now, when the provider tells the shop.
        ledger.resolvePending(key: callback.idempotencyKey, succeeded: callback.succeeds, late: callback.late, epoch: callback.epoch)
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(callback.body))
        } catch {
            preconditionFailure("a callback body always encodes: \(error)")
        }
        let webhookID = RandomIdentifier.make("msg_")
        if callback.duplicate {
            // Both deliveries at once: the receiver's dedupe must hold under a race, not only in turn.
            async let first: Void = deliver(body, webhookID: webhookID, epoch: callback.epoch, client: client)
            async let second: Void = deliver(body, webhookID: webhookID, epoch: callback.epoch, client: client)
            _ = await (first, second)
        } else {
            await deliver(body, webhookID: webhookID, epoch: callback.epoch, client: client)
        }
    }

    /// One delivery: the same `webhook-id` on every attempt, a fresh timestamp and signature each.
    private func deliver(_ body: [UInt8], webhookID: String, epoch: ChargeLedger.Epoch, client: CurlHTTPClient) async {
        var logger = logger
        logger[metadataKey: "webhook-id"] = "\(webhookID)"
        for attempt in 1...attempts {
            if attempt > 1 {
                let backoff = min(Self.maxBackoffMilliseconds, backoffMilliseconds << min(attempt - 2, 20))
                do {
                    try await Task.sleep(for: .milliseconds(backoff))
                } catch {
                    return
                }
            }
            let headers = WebhookHeaders(
                signing: body, secret: secret, id: webhookID, timestamp: Int(Date().timeIntervalSince1970))
            let request = HTTPRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers.fields, body: body,
                connectTimeoutMilliseconds: min(2000, timeoutMilliseconds), timeoutMilliseconds: timeoutMilliseconds)
            do {
                let response = try await client.execute(request)
                if (200..<300).contains(response.status) {
                    ledger.countCallback(delivered: true, epoch: epoch)
                    return
                }
                logger.debug("callback refused", metadata: ["attempt": "\(attempt)", "status": "\(response.status)"])
            } catch {
                if Task.isCancelled { return }
                logger.debug("callback not delivered", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            }
        }
        ledger.countCallback(delivered: false, epoch: epoch)
        logger.notice("callback given up", metadata: ["attempts": "\(attempts)"])
    }
}
