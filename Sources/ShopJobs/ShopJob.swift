import Foundation
import JobQueue

/// The shop's job kinds (see `jobs/`), with their payloads and unique keys.
///
/// Every job is keyed by the row it works on, so enqueueing the same work twice (a retried
/// request, a scheduler reconcile, two schedulers in a split second) is a no-op while the first
/// is waiting or running.
public enum ShopJob: Sendable, Equatable {
    /// Draw a closed draw/raffle (`drop.close`).
    case closeDrop(dropID: Int)
    /// Charge one order through the payment webhook (`order.charge`).
    case chargeOrder(orderID: Int)
    /// Expire an order still pending when its payment window ends (`order.expire`).
    case expireOrder(orderID: Int, atMilliseconds: Int)
    /// Pay back an order's charge through the payment webhook (`order.refund`).
    case refundOrder(orderID: Int)

    public static let closeDropKind = "drop.close"
    public static let chargeOrderKind = "order.charge"
    public static let expireOrderKind = "order.expire"
    public static let refundOrderKind = "order.refund"

    public var kind: String {
        switch self {
        case .closeDrop: Self.closeDropKind
        case .chargeOrder: Self.chargeOrderKind
        case .expireOrder: Self.expireOrderKind
        case .refundOrder: Self.refundOrderKind
        }
    }

    public var uniqueKey: String {
        switch self {
        case .closeDrop(let id): "drop.close:\(id)"
        case .chargeOrder(let id): "order.charge:\(id)"
        case .expireOrder(let id, _): "order.expire:\(id)"
        case .refundOrder(let id): "order.refund:\(id)"
        }
    }

    public var payload: String {
        switch self {
        case .closeDrop(let id): "{\"drop_id\":\(id)}"
        case .chargeOrder(let id): "{\"order_id\":\(id)}"
        case .expireOrder(let id, let at): "{\"order_id\":\(id),\"at_ms\":\(at)}"
        case .refundOrder(let id): "{\"order_id\":\(id)}"
        }
    }

    public var newJob: JobQueue.NewJob {
        switch self {
        case .expireOrder(_, let at):
            JobQueue.NewJob(kind: kind, payload: payload, uniqueKey: uniqueKey, runAtMilliseconds: at)
        default:
            JobQueue.NewJob(kind: kind, payload: payload, uniqueKey: uniqueKey)
        }
    }

    private struct Payload: Decodable {
        let drop_id: Int?
        let order_id: Int?
        let at_ms: Int?
    }

    /// Reads a job back from its kind and payload; nil when they do not describe a shop job.
    public init?(kind: String, payload: String) {
        guard let fields = try? JSONDecoder().decode(Payload.self, from: Data(payload.utf8)) else { return nil }
        switch kind {
        case Self.closeDropKind:
            guard let id = fields.drop_id else { return nil }
            self = .closeDrop(dropID: id)
        case Self.chargeOrderKind:
            guard let id = fields.order_id else { return nil }
            self = .chargeOrder(orderID: id)
        case Self.expireOrderKind:
            guard let id = fields.order_id, let at = fields.at_ms else { return nil }
            self = .expireOrder(orderID: id, atMilliseconds: at)
        case Self.refundOrderKind:
            guard let id = fields.order_id else { return nil }
            self = .refundOrder(orderID: id)
        default:
            return nil
        }
    }
}

extension JobQueue {
    /// Enqueues shop jobs in one round trip; duplicates of waiting or running work are skipped.
    @discardableResult
    public func enqueue(_ jobs: [ShopJob]) async throws -> Int {
        try await enqueue(jobs.map(\.newJob))
    }
}
