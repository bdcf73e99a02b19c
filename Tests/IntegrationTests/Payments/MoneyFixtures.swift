import Foundation
import Postgres
import ShopDomain
import Storage

/// Orders and draws for the money tests, made through the platform's own stores.
enum MoneyFixtures {
    /// An open-run's order in `status` (pending or paid), its unit moved accordingly.
    static func openRunOrder(
        _ pool: PostgresPool, dropID: Int, userID: Int, paid: Bool, paymentID: String = "pay_\(UUID().uuidString)"
    ) async throws -> Int {
        try await pool.transaction { connection in
            try connection.query(
                paid
                    ? "UPDATE drops SET available = available - 1, sold = sold + 1 WHERE id = $1"
                    : "UPDATE drops SET available = available - 1, held = held + 1 WHERE id = $1",
                [.int(dropID)])
            return try connection.query(
                """
                INSERT INTO orders (drop_id, user_id, amount_cents, currency, expires_at, status, charge_state, payment_id)
                SELECT id, $2, price_cents, currency, now() + interval '15 minutes', $3, $4, $5 FROM drops WHERE id = $1
                RETURNING id
                """,
                [
                    .int(dropID), .int(userID), .text(paid ? "paid" : "pending_payment"), .text(paid ? "done" : "queued"),
                    .text(paid ? paymentID : nil),
                ])[0].int(0)
        }
    }

    /// Draws a `closing` draw now, as the close job does; returns the winners' orders.
    @discardableResult
    static func draw(_ pool: PostgresPool, dropID: Int) async throws -> DrawStore.Committed {
        guard let drop = try await pool.withConnection({ try DrawStore.drop($0, id: dropID) }), let seed = drop.seed else {
            throw TestFailure("drop \(dropID) is not a draw")
        }
        let (entries, digest) = try await pool.withConnection { try DrawStore.canonicalEntries($0, dropID: dropID) }
        let input = DrawInput(
            dropID: dropID, seed: seed, beacon: drop.beacon, entries: entries, stock: drop.stock,
            waitlistDepth: drop.waitlistDepth)
        let result = try DrawProtocolV1.draw(input, entriesDigest: digest)
        return try await pool.withConnection {
            try DrawStore.commitDraw(
                $0, dropID: dropID, result: result, bundle: AuditBundle(input: input, result: result), paymentWindowSeconds: 900)
        }
    }

    /// Draws like ``draw(_:dropID:)`` but stores no audit bundle, as a draw committed before
    /// bundles were stored did.
    @discardableResult
    static func drawWithoutBundle(_ pool: PostgresPool, dropID: Int) async throws -> DrawStore.Committed {
        guard let drop = try await pool.withConnection({ try DrawStore.drop($0, id: dropID) }), let seed = drop.seed else {
            throw TestFailure("drop \(dropID) is not a draw")
        }
        let (entries, digest) = try await pool.withConnection { try DrawStore.canonicalEntries($0, dropID: dropID) }
        let result = try DrawProtocolV1.draw(
            DrawInput(
                dropID: dropID, seed: seed, beacon: drop.beacon, entries: entries, stock: drop.stock,
                waitlistDepth: drop.waitlistDepth),
            entriesDigest: digest)
        return try await pool.withConnection {
            try DrawStore.commitDraw($0, dropID: dropID, result: result, bundle: nil, paymentWindowSeconds: 900)
        }
    }

    /// Marks orders paid as a successful charge would (settlement included).
    static func pay(_ pool: PostgresPool, orders: [Int]) async throws {
        _ = try await pool.withConnection { connection in
            try connection.transaction { transaction in
                try OrderSettlementStore.apply(
                    transaction, orders.map { Settlement(orderID: $0, outcome: .paid(paymentID: "pay_\($0)"), attempt: 1, httpStatus: 200) },
                    paymentWindowSeconds: 900)
            }
        }
    }

    static func audit(_ pool: PostgresPool) async throws -> [String] {
        try await pool.withConnection { try InvariantAudit.run($0) }.violations
    }
}
