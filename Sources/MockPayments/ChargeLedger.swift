import Synchronization

/// Every Idempotency-Key the provider has seen, the charges it made, and the counters.
///
/// One key is worked on by one request at a time: a request for a key that is in flight waits
/// for it to end, then gets its stored answer (or becomes the next attempt if it ended in an
/// error). Successful charges are counted per key and per order in a log separate from the
/// answers, so a double charge shows in the stats whichever way it came about.
final class ChargeLedger: Sendable {
    /// What a request may do with its key.
    enum Admission: Sendable, Equatable {
        /// Nobody answered this key yet: go ahead as attempt number `attempt` (0 first).
        case new(attempt: Int)
        /// Answer exactly this again, after the latency of the original `attempt`.
        case replay(ChargeAnswer, attempt: Int)
        /// The key belongs to a different charge.
        case conflict
    }

    /// Tells work started before a ``reset()`` from work after it.
    struct Epoch: Sendable, Equatable {
        fileprivate let value: Int
    }

    private struct InFlight {
        let request: ChargeRequest
        let attempt: Int
        /// Requests for the same key, resumed (to look again) when this attempt ends.
        var waiters: [CheckedContinuation<Admission?, Never>] = []
    }

    private struct Answered {
        var record: ChargeRecord
        let request: ChargeRequest
        let attempt: Int
    }

    private enum KeyState {
        case inFlight(InFlight)
        /// Only errors so far: the next request is attempt `count`.
        case failed(count: Int)
        case answered(Answered)
    }

    private struct State {
        var keys: [String: KeyState] = [:]
        var keysByOrder: [Int: [String]] = [:]
        var chargesByKey: [String: Int] = [:]
        var chargesByOrder: [Int: Int] = [:]
        /// Money per order and per customer: what was charged and what was paid back.
        var chargedCentsByOrder: [Int: Int] = [:]
        var refundedCentsByOrder: [Int: Int] = [:]
        var userByOrder: [Int: Int] = [:]
        var refunds: [String: (request: RefundRequest, refundID: String)] = [:]
        var stats = MockPaymentsStats()
        var epoch = 0

        mutating func recordCharge(key: String, request: ChargeRequest) {
            let orderID = request.orderID
            chargedCentsByOrder[orderID, default: 0] += request.amountCents
            userByOrder[orderID] = request.userID
            stats.chargesSucceeded += 1
            let byKey = chargesByKey[key, default: 0] + 1
            chargesByKey[key] = byKey
            if byKey == 2 { stats.doubleChargedKeys += 1 }
            let byOrder = chargesByOrder[orderID, default: 0] + 1
            chargesByOrder[orderID] = byOrder
            if byOrder == 2 { stats.doubleChargedOrders += 1 }
        }

        func record(_ key: String) -> ChargeRecord? {
            guard case .answered(let answered) = keys[key] else { return nil }
            var record = answered.record
            record.succeededCharges = chargesByKey[key, default: 0]
            return record
        }
    }

    private let state = Mutex(State())

    /// Waits while another request works on `key`, then says what this one may do.
    func admit(_ request: ChargeRequest, key: String) async -> Admission {
        while true {
            let admission: Admission? = await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> Admission? in
                    switch state.keys[key] {
                    case .inFlight(var flight):
                        guard flight.request == request else {
                            state.stats.conflicts += 1
                            return .conflict
                        }
                        flight.waiters.append(continuation)
                        state.keys[key] = .inFlight(flight)
                        return nil
                    case .answered(let answered):
                        guard answered.request == request else {
                            state.stats.conflicts += 1
                            return .conflict
                        }
                        state.stats.replays += 1
                        return .replay(
                            ChargeAnswer(status: answered.record.answer, paymentID: answered.record.paymentID),
                            attempt: answered.attempt)
                    case .failed(let count):
                        state.keys[key] = .inFlight(InFlight(request: request, attempt: count))
                        return .new(attempt: count)
                    case nil:
                        state.keys[key] = .inFlight(InFlight(request: request, attempt: 0))
                        return .new(attempt: 0)
                    }
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            if let admission { return admission }
        }
    }

    /// Ends the attempt on `key` with `answer`; `charged` when money moved now (succeeded, timeout).
    /// Returns the epoch a pending charge's callback reports in.
    @discardableResult
    func answer(
        key: String, answer: ChargeAnswer, charged: Bool, heldBack: Bool
    ) -> Epoch {
        let (epoch, waiters) = state.withLock { state in
            guard case .inFlight(let flight) = state.keys[key] else {
                preconditionFailure("answer(key:) for a key that is not in flight")
            }
            let request = flight.request
            let record = ChargeRecord(
                idempotencyKey: key, paymentID: answer.paymentID, orderID: request.orderID, dropID: request.dropID,
                userID: request.userID, amountCents: request.amountCents, currency: request.currency,
                answer: answer.status, status: ChargeRecord.Status(answer.status), heldBack: heldBack, succeededCharges: 0)
            state.keys[key] = .answered(Answered(record: record, request: request, attempt: flight.attempt))
            state.keysByOrder[request.orderID, default: []].append(key)
            switch answer.status {
            case .succeeded: break
            case .declined: state.stats.declined += 1
            case .pending: state.stats.pending += 1
            }
            if heldBack { state.stats.timeouts += 1 }
            if charged { state.recordCharge(key: key, request: request) }
            return (Epoch(value: state.epoch), flight.waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        return epoch
    }

    /// Ends the attempt on `key` without an answer: nothing is recorded, and the next request for
    /// the key is a new attempt. `countsAsError` for the `error` outcome; false when the attempt
    /// was cut short (the provider is stopping).
    func release(key: String, countsAsError: Bool) {
        let waiters = state.withLock { state in
            guard case .inFlight(let flight) = state.keys[key] else {
                preconditionFailure("release(key:) for a key that is not in flight")
            }
            state.keys[key] = .failed(count: flight.attempt + 1)
            if countsAsError { state.stats.errors += 1 }
            return flight.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// A pending charge's result, decided when its callback goes out; ignored after a reset.
    func resolvePending(key: String, succeeded: Bool, late: Bool = false, epoch: Epoch) {
        state.withLock { state in
            guard state.epoch == epoch.value, case .answered(var answered) = state.keys[key] else { return }
            answered.record.status = succeeded ? .succeeded : .failed
            state.keys[key] = .answered(answered)
            state.stats.pendingResolved += 1
            if succeeded { state.recordCharge(key: key, request: answered.request) }
            if succeeded && late { state.stats.lateSuccesses += 1 }
        }
    }

    enum RefundDecision: Sendable, Equatable {
        case refunded(refundID: String)
        case refused(String)
        case conflict
    }

    /// Pays back (part of) an order's charges, once per Idempotency-Key: never more than was
    /// charged, and an order refunded once is refused a second refund under another key (counted
    /// as a double refund: a provider without this ledger would have paid twice).
    func refund(_ request: RefundRequest, key: String) -> RefundDecision {
        state.withLock { state in
            if let known = state.refunds[key] {
                guard known.request == request else {
                    state.stats.conflicts += 1
                    return .conflict
                }
                state.stats.replays += 1
                return .refunded(refundID: known.refundID)
            }
            let charged = state.chargedCentsByOrder[request.orderID, default: 0]
            let refunded = state.refundedCentsByOrder[request.orderID, default: 0]
            if refunded > 0 {
                state.stats.doubleRefunds += 1
                state.stats.refundsRefused += 1
                return .refused("order \(request.orderID) was refunded already")
            }
            guard refunded + request.amountCents <= charged else {
                state.stats.refundsRefused += 1
                return .refused("order \(request.orderID) was charged \(charged), cannot refund \(request.amountCents) more")
            }
            let refundID = RandomIdentifier.make("re_")
            state.refundedCentsByOrder[request.orderID] = refunded + request.amountCents
            state.refunds[key] = (request, refundID)
            state.stats.refunds += 1
            state.stats.refundedCents += request.amountCents
            return .refunded(refundID: refundID)
        }
    }

    /// Money the provider keeps per order (charged − refunded, in cents).
    var keptByOrder: [Int: Int] {
        state.withLock { state in
            state.chargedCentsByOrder.reduce(into: [:]) { kept, entry in
                kept[entry.key] = entry.value - state.refundedCentsByOrder[entry.key, default: 0]
            }
        }
    }

    /// Money the provider keeps per customer (charged − refunded, in cents), for tests that check
    /// that money follows units.
    var keptByCustomer: [Int: Int] {
        state.withLock { state in
            var kept: [Int: Int] = [:]
            for (order, charged) in state.chargedCentsByOrder {
                guard let user = state.userByOrder[order] else { continue }
                kept[user, default: 0] += charged - state.refundedCentsByOrder[order, default: 0]
            }
            return kept
        }
    }

    /// Counts a callback delivery (acknowledged, or given up); ignored after a reset.
    func countCallback(delivered: Bool, epoch: Epoch) {
        state.withLock { state in
            guard state.epoch == epoch.value else { return }
            if delivered { state.stats.callbacksSent += 1 } else { state.stats.callbacksFailed += 1 }
        }
    }

    func count(_ counter: WritableKeyPath<MockPaymentsStats, Int>) {
        state.withLock { $0.stats[keyPath: counter] += 1 }
    }

    var stats: MockPaymentsStats { state.withLock { $0.stats } }

    func record(idempotencyKey: String) -> ChargeRecord? {
        state.withLock { $0.record(idempotencyKey) }
    }

    func records(orderID: Int) -> [ChargeRecord] {
        state.withLock { state in state.keysByOrder[orderID, default: []].compactMap { state.record($0) } }
    }

    /// Forgets every answered key, charge and counter. Keys in flight stay in flight (their
    /// requests are waiting on them) and end in the new epoch.
    func reset() {
        state.withLock { state in
            let inFlight = state.keys.filter { _, value in
                if case .inFlight = value { return true }
                return false
            }
            let epoch = state.epoch + 1
            state = State()
            state.keys = inFlight
            state.epoch = epoch
        }
    }
}

extension ChargeRecord.Status {
    init(_ answer: ChargeAnswer.Status) {
        switch answer {
        case .succeeded: self = .succeeded
        case .declined: self = .declined
        case .pending: self = .pending
        }
    }
}
