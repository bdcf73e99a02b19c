import Foundation
import ShopDomain
import Testing

/// The drop and order state machines: every move the platform makes, and nothing else.
@Suite struct LifecycleTests {
    @Test func drawsAndRafflesMoveThroughClosingAndDrawn() {
        for kind in [DropKind.draw, .raffle] {
            #expect(DropStatus.scheduled.canMove(to: .open, kind: kind))
            #expect(DropStatus.open.canMove(to: .closing, kind: kind))
            #expect(DropStatus.closing.canMove(to: .drawn, kind: kind))
            #expect(DropStatus.drawn.canMove(to: .settled, kind: kind))
            #expect(DropStatus.closing.canMove(to: .settled, kind: kind), "a draw nobody entered settles at once")
            #expect(!DropStatus.open.canMove(to: .closed, kind: kind), "closed is for open-runs")
            #expect(!DropStatus.open.canMove(to: .drawn, kind: kind), "no draw without freezing entries first")
            #expect(!DropStatus.scheduled.canMove(to: .closing, kind: kind))
        }
    }

    @Test func openRunsCloseWithoutADraw() {
        #expect(DropStatus.scheduled.canMove(to: .open, kind: .openRun))
        #expect(DropStatus.open.canMove(to: .closed, kind: .openRun))
        #expect(DropStatus.open.canMove(to: .settled, kind: .openRun))
        #expect(DropStatus.closed.canMove(to: .settled, kind: .openRun))
        #expect(!DropStatus.open.canMove(to: .closing, kind: .openRun))
        #expect(!DropStatus.closing.canMove(to: .drawn, kind: .openRun))
        #expect(!DropStatus.closing.canMove(to: .settled, kind: .openRun))
    }

    @Test func settledIsFinalAndNothingMovesBackwards() {
        for kind in DropKind.allCases {
            for next in DropStatus.allCases {
                #expect(!DropStatus.settled.canMove(to: next, kind: kind))
                #expect(!next.canMove(to: .scheduled, kind: kind))
            }
        }
        #expect(throws: InvalidDropTransition.self) { try DropStatus.drawn.moved(to: .open, kind: .draw) }
    }

    @Test func finalOrderStatesNeverMove() {
        for final in [OrderStatus.failed, .expired, .cancelled, .refunded] {
            #expect(final.isFinal)
            for next in OrderStatus.allCases { #expect(!final.canMove(to: next)) }
        }
        #expect(OrderStatus.pendingPayment.canMove(to: .paid))
        #expect(OrderStatus.pendingPayment.canMove(to: .expired))
        #expect(OrderStatus.pendingPayment.canMove(to: .cancelled))
        #expect(!OrderStatus.pendingPayment.canMove(to: .pendingPayment))
        // A paid order only ever moves on to its refund (docs/payments.md, "Order states").
        #expect(OrderStatus.paid.canMove(to: .refundPending) && OrderStatus.refundPending.canMove(to: .refunded))
        for next in OrderStatus.allCases where next != .refundPending { #expect(!OrderStatus.paid.canMove(to: next)) }
        #expect(!OrderStatus.refundPending.canMove(to: .paid))
    }

    @Test func anyDropButASettledOneCanBeCancelled() {
        for kind in DropKind.allCases {
            for from in DropStatus.allCases where from != .settled && from != .cancelled {
                #expect(
                    from.canMove(to: .cancelled, kind: kind) == (kind.isDrawn ? from != .closed : from != .closing && from != .drawn),
                    "\(kind) \(from)")
            }
            #expect(!DropStatus.settled.canMove(to: .cancelled, kind: kind))
            for next in DropStatus.allCases { #expect(!DropStatus.cancelled.canMove(to: next, kind: kind)) }
        }
    }

    @Test func theSeedStaysSecretUntilTheDraw() {
        let seed = DrawProtocolV1.makeSeed()
        var drop = Drop(
            id: 1, productID: 1, kind: .draw, status: .open, stock: 1, available: 1, held: 0, sold: 0,
            opensAt: Date(), closesAt: Date(), maxTickets: 1, waitlistDepth: 0,
            commitment: DrawProtocolV1.commitment(seed: seed), seed: seed, beacon: "", entriesDigest: nil,
            drawnAt: nil, createdAt: Date())
        for status in [DropStatus.scheduled, .open, .closing] {
            drop.status = status
            #expect(drop.revealedSeed == nil)
        }
        for status in [DropStatus.drawn, .settled] {
            drop.status = status
            #expect(drop.revealedSeed == seed)
        }
    }
}
