import CurlHTTP
import Foundation
import Synchronization

/// The drill's customers: JSON calls through HAProxy.
struct DrillClient: Sendable {
    let http: CurlHTTPClient
    let api: String

    struct Object {
        let values: [String: Any]
        func int(_ key: String) throws -> Int {
            guard let value = values[key] as? Int else { throw BenchFailure("no \(key) in the answer") }
            return value
        }
    }

    /// One operator call; a 503 (HAProxy still marking its servers up) is tried again for a while.
    func json(_ method: String, _ path: String, token: String, body: String) async throws -> Object {
        var response = try await http.execute(
            HTTPRequest(
                method: method, url: api + path,
                headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(token)")], body: Array(body.utf8),
                timeoutMilliseconds: 30_000))
        for _ in 0..<60 where response.status == 503 {
            try await Task.sleep(for: .milliseconds(500))
            response = try await http.execute(
                HTTPRequest(
                    method: method, url: api + path,
                    headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(token)")], body: Array(body.utf8),
                    timeoutMilliseconds: 30_000))
        }
        guard (200..<300).contains(response.status) else {
            throw BenchFailure("\(method) \(path) answered \(response.status): \(response.bodyText)")
        }
        return Object(values: (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:])
    }
}

/// Entrants and buyers at a steady pace over the window, each retrying what got no decision
/// (no answer, 5xx) the way a shop's client would, until it has one or the window ends.
/// Records every 201 and the longest stretch in which no call got a 2xx.
final class DrillLoad: Sendable {
    enum Kind: Sendable { case entry, purchase }

    struct Outcome: Sendable {
        var entered: [Int] = []
        var orders: [Int] = []
        var answers: [Int: Int] = [:]
        var longestGap: Duration = .zero
    }

    private let client: DrillClient
    private let drawID: Int
    private let openRunID: Int
    private let work: [(kind: Kind, user: Int, bearer: String)]
    private let until: ContinuousClock.Instant
    private let concurrency: Int
    private let next = Atomic<Int>(0)

    private struct Tally {
        var outcome = Outcome()
        var lastSuccess: ContinuousClock.Instant
    }
    private let tally: Mutex<Tally>

    init(
        client: DrillClient, drawID: Int, openRunID: Int, work: [(kind: Kind, user: Int, bearer: String)],
        until: ContinuousClock.Instant, concurrency: Int
    ) {
        self.client = client
        self.drawID = drawID
        self.openRunID = openRunID
        self.work = work
        self.until = until
        self.concurrency = concurrency
        self.tally = Mutex(Tally(lastSuccess: .now))
    }

    func run() async -> Outcome {
        let started = ContinuousClock.now
        let span = started.duration(to: until)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask { [self] in
                    while true {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < work.count, ContinuousClock.now < until else { return }
                        // Pace: item i is due at i/count of the span.
                        let due = started + span * (Double(index) / Double(work.count))
                        if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                        await attempt(work[index])
                    }
                }
            }
        }
        return tally.withLock { tally in
            let gap = tally.lastSuccess.duration(to: until)
            if gap > tally.outcome.longestGap { tally.outcome.longestGap = gap }
            return tally.outcome
        }
    }

    private func attempt(_ item: (kind: Kind, user: Int, bearer: String)) async {
        let path = item.kind == .entry ? "/v1/drops/\(drawID)/entries" : "/v1/drops/\(openRunID)/purchase"
        while ContinuousClock.now < until {
            let response = try? await client.http.execute(
                HTTPRequest(
                    method: "POST", url: client.api + path,
                    headers: [("Authorization", item.bearer), ("Content-Type", "application/json")], body: Array("{}".utf8),
                    timeoutMilliseconds: 10_000))
            let status = response?.status ?? 0
            let now = ContinuousClock.now
            var orderID: Int?
            if status == 201, item.kind == .purchase, let response,
                let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            {
                orderID = object["id"] as? Int
            }
            tally.withLock { tally in
                tally.outcome.answers[status, default: 0] += 1
                if (200..<300).contains(status) {
                    let gap = tally.lastSuccess.duration(to: now)
                    if gap > tally.outcome.longestGap { tally.outcome.longestGap = gap }
                    if now > tally.lastSuccess { tally.lastSuccess = now }
                }
                if status == 201 {
                    if item.kind == .entry { tally.outcome.entered.append(item.user) }
                    if let orderID { tally.outcome.orders.append(orderID) }
                }
            }
            // Decided (accepted, refused, sold out, already entered): done. No answer or 5xx: again.
            if status != 0 && status < 500 { return }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}
