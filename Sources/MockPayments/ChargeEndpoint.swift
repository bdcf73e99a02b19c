import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import ShopDomain

/// `POST <charge path>`: verifies a charge webhook, then answers it once per Idempotency-Key.
struct ChargeEndpoint: Sendable {
    let secret: String
    let signatureToleranceSeconds: Int
    let timeoutHoldMilliseconds: Int
    let policy: OutcomePolicy
    let ledger: ChargeLedger
    let callbacks: CallbackSender

    private static let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!
    private static let webhookIDField = HTTPField.Name(WebhookHeaders.idName)!
    private static let webhookTimestampField = HTTPField.Name(WebhookHeaders.timestampName)!
    private static let webhookSignatureField = HTTPField.Name(WebhookHeaders.signatureName)!
    /// A charge body is a few hundred bytes.
    private static let maxBodyBytes = 64 * 1024
    /// Keys longer than this are refused (Stripe's limit).
    private static let maxKeyLength = 255

    func charge(_ request: Request) async throws -> Response {
        ledger.count(\.requests)
        let body = Array(buffer: try await request.body.collect(upTo: Self.maxBodyBytes))
        try verifySignature(request.headers, body: body)
        if RefundRequest.isRefund(jsonBytes: body) { return try refund(request.headers, body: body) }
        let key: String
        let charge: ChargeRequest
        do {
            key = try idempotencyKey(request.headers)
            charge = try ChargeRequest(jsonBytes: body)
        } catch {
            ledger.count(\.invalidRequests)
            throw error
        }

        switch await ledger.admit(charge, key: key) {
        case .conflict:
            throw MockPaymentsProblem(.idempotencyKeyReused, "this Idempotency-Key was used for a different charge")
        case .replay(let answer, let attempt):
            // A replay takes as long as the original answer did.
            try await sleep(milliseconds: policy.decide(idempotencyKey: key, attempt: attempt).latencyMilliseconds)
            return try JSONResponse.make(answer)
        case .new(let attempt):
            return try await answerNew(key: key, charge: charge, decision: policy.decide(idempotencyKey: key, attempt: attempt))
        }
    }

    private func answerNew(key: String, charge: ChargeRequest, decision: ChargeDecision) async throws -> Response {
        do {
            try await sleep(milliseconds: decision.latencyMilliseconds)
        } catch {
            ledger.release(key: key, countsAsError: false)
            throw error
        }
        let paymentID = RandomIdentifier.make("pay_")
        switch decision.outcome {
        case .succeeded:
            let answer = ChargeAnswer(status: .succeeded, paymentID: paymentID)
            ledger.answer(key: key, answer: answer, charged: true, heldBack: false)
            return try JSONResponse.make(answer)
        case .declined:
            let answer = ChargeAnswer(status: .declined, paymentID: paymentID)
            ledger.answer(key: key, answer: answer, charged: false, heldBack: false)
            return try JSONResponse.make(answer)
        case .pending(let succeeds, let duplicateCallback, let late):
            let answer = ChargeAnswer(status: .pending, paymentID: paymentID)
            let epoch = ledger.answer(key: key, answer: answer, charged: false, heldBack: false)
            callbacks.schedule(
                PendingCallback(
                    idempotencyKey: key, orderID: charge.orderID, paymentID: paymentID, succeeds: succeeds,
                    duplicate: duplicateCallback, late: late, epoch: epoch))
            return try JSONResponse.make(answer)
        case .error(let status, let retryAfter):
            ledger.release(key: key, countsAsError: true)
            throw MockPaymentsProblem(
                status == 503 ? .providerUnavailable : .providerError, "simulated provider failure; nothing was charged",
                retryAfterSeconds: retryAfter ? 1 : nil)
        case .timeout:
            let answer = ChargeAnswer(status: .succeeded, paymentID: paymentID)
            ledger.answer(key: key, answer: answer, charged: true, heldBack: true)
            // Held past the client's timeout; a stopping provider lets go at once (the client
            // has given up on this answer anyway).
            let hold = timeoutHoldMilliseconds
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(hold)) }
            return try JSONResponse.make(answer)
        }
    }

    /// `refund.requested`: answered at once, once per Idempotency-Key, from the ledger (never more
    /// than the order was charged; a second refund of an order is refused and counted).
    private func refund(_ headers: HTTPFields, body: [UInt8]) throws -> Response {
        let key: String
        let refund: RefundRequest
        do {
            key = try idempotencyKey(headers)
            refund = try RefundRequest(jsonBytes: body)
        } catch {
            ledger.count(\.invalidRequests)
            throw error
        }
        switch ledger.refund(refund, key: key) {
        case .conflict:
            throw MockPaymentsProblem(.idempotencyKeyReused, "this Idempotency-Key was used for a different request")
        case .refused(let reason):
            throw MockPaymentsProblem(.refundRefused, reason)
        case .refunded(let refundID):
            return try JSONResponse.make(RefundAnswer(status: "refunded", refundID: refundID))
        }
    }

    /// 401 unless the Standard Webhooks headers sign `body` with our secret and are fresh.
    private func verifySignature(_ headers: HTTPFields, body: [UInt8]) throws(MockPaymentsProblem) {
        do throws(WebhookSignatureError) {
            let webhook = try WebhookHeaders(
                id: headers[Self.webhookIDField], timestamp: headers[Self.webhookTimestampField],
                signature: headers[Self.webhookSignatureField])
            try webhook.verify(
                body: body, secret: secret, now: Int(Date().timeIntervalSince1970), tolerance: signatureToleranceSeconds)
        } catch {
            ledger.count(\.badSignatures)
            throw MockPaymentsProblem(.badSignature, error.description)
        }
    }

    private func idempotencyKey(_ headers: HTTPFields) throws(MockPaymentsProblem) -> String {
        guard let key = headers[Self.idempotencyKeyField], !key.isEmpty else {
            throw MockPaymentsProblem(.invalidRequest, "the Idempotency-Key header is missing")
        }
        guard key.utf8.count <= Self.maxKeyLength else {
            throw MockPaymentsProblem(.invalidRequest, "the Idempotency-Key is longer than \(Self.maxKeyLength) bytes")
        }
        return key
    }

    private func sleep(milliseconds: Int) async throws {
        if milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
    }
}
