import CurlHTTP
import Foundation
import Testing

@testable import Worker

/// How the worker reads the provider's answers (docs/payments.md, "Charges").
@Suite struct PaymentClientTests {
    func answer(_ status: Int, _ body: String = "", headers: [(name: String, value: String)] = []) -> PaymentClient.Answer {
        PaymentClient.classify(HTTPResponse(status: status, headers: headers, body: Array(body.utf8)))
    }

    @Test func twoHundredsCarryTheOutcome() {
        #expect(answer(200, #"{"status":"succeeded","payment_id":"pay_1"}"#) == .succeeded(paymentID: "pay_1", httpStatus: 200))
        #expect(answer(201, #"{"status":"declined","payment_id":"pay_2"}"#) == .declined(httpStatus: 201))
        #expect(answer(202, #"{"status":"pending","payment_id":"pay_3"}"#) == .pending(paymentID: "pay_3", httpStatus: 202))
    }

    @Test func aGarbledTwoHundredIsRetriedNotTrusted() {
        guard case .retryable(200, nil, _) = answer(200, "<html>") else {
            Issue.record("garbled body")
            return
        }
        guard case .retryable(200, nil, _) = answer(200, #"{"status":"succeeded"}"#) else {
            Issue.record("success without a payment id")
            return
        }
        guard case .retryable = answer(200, #"{"status":"refunded","payment_id":"p"}"#) else {
            Issue.record("unknown status")
            return
        }
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func transientStatusesAreRetried(status: Int) {
        guard case .retryable(status, nil, _) = answer(status) else {
            Issue.record("\(status) should be retried")
            return
        }
    }

    @Test(arguments: [400, 401, 402, 403, 404, 409, 422])
    func otherClientErrorsAreDeclines(status: Int) {
        #expect(answer(status) == .declined(httpStatus: status))
    }

    @Test func retryAfterIsHonouredInSecondsOrAsADate() {
        guard case .retryable(429, 7000, _) = answer(429, headers: [("Retry-After", "7")]) else {
            Issue.record("Retry-After seconds")
            return
        }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        let later = formatter.string(from: now.addingTimeInterval(30))
        #expect(PaymentClient.retryAfter(later, now: now) == 30_000)
        #expect(PaymentClient.retryAfter("soon", now: now) == nil)
        #expect(PaymentClient.retryAfter(nil, now: now) == nil)
    }

    /// A huge `Retry-After` once trapped (`seconds * 1000` overflowed) and crashed every worker
    /// that took the job; now it reads as "very long" and the wait is bounded by the job's backoff
    /// cap and by what is left of the payment window.
    @Test func aHugeRetryAfterNeitherTrapsNorParksTheCharge() {
        #expect(PaymentClient.retryAfter(String(Int.max)) == Int.max)
        #expect(PaymentClient.retryAfter("99999999999999999999999999") == Int.max)
        #expect(PaymentClient.retryAfter("9223372036854776") == Int.max)
        #expect(PaymentClient.retryAfter("9223372036854775") == 9_223_372_036_854_775_000)
        #expect(PaymentClient.retryAfter("Fri, 31 Dec 9999 23:59:59 GMT") ?? 0 > 0)
        guard case .retryable(503, Int.max, _) = answer(503, headers: [("Retry-After", String(Int.max))]) else {
            Issue.record("huge Retry-After")
            return
        }
        #expect(ChargeOrderHandler.boundedWait(retryAfter: Int.max, capMilliseconds: 30_000, windowLeftMilliseconds: 900_000) == 30_000)
        #expect(ChargeOrderHandler.boundedWait(retryAfter: Int.max, capMilliseconds: 30_000, windowLeftMilliseconds: 4_000) == 4_000)
        #expect(ChargeOrderHandler.boundedWait(retryAfter: 2_000, capMilliseconds: 30_000, windowLeftMilliseconds: 4_000) == 2_000)
        #expect(ChargeOrderHandler.boundedWait(retryAfter: nil, capMilliseconds: 30_000, windowLeftMilliseconds: 4_000) == 0)
        #expect(ChargeOrderHandler.boundedWait(retryAfter: 5_000, capMilliseconds: 30_000, windowLeftMilliseconds: -10) == 0)
    }
}
