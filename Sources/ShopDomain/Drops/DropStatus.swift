/// The life of a drop. ``DropStatus/canMove(to:kind:)`` lists every move the platform makes;
/// the database enforces the same list for every status change, whichever code path makes it
/// (migration `0003_drop_status_moves`, a trigger on `drops`; a test keeps the two equal). The
/// SQL that performs a move also names the status it expects (`UPDATE … WHERE status =
/// $expected`), so two processes can never both make it.
///
/// ```
/// draw/raffle: scheduled → open → closing → drawn → settled   (closing → settled when nobody entered)
/// open_run:    scheduled → open → closed → settled            (open → settled when sold out and paid)
/// any kind:    every status but settled → cancelled            (an operator cancels the drop)
/// ```
public enum DropStatus: String, Sendable, Codable, CaseIterable {
    /// Created; `opens_at` is in the future.
    case scheduled
    /// Accepting entries (draw/raffle) or purchases (open-run).
    case open
    /// Draw/raffle past `closes_at`: entries are frozen and the close job is due.
    case closing
    /// Draw/raffle whose winners were picked; orders are being paid, released and re-offered.
    case drawn
    /// Open-run past `closes_at`: no more purchases; pending orders still settle.
    case closed
    /// Every unit is paid, or nobody is left to offer it to. Final.
    case settled
    /// An operator cancelled the drop: unpaid orders voided, paid ones refunded. Final.
    case cancelled

    /// The moves the platform makes, per kind.
    public func canMove(to next: DropStatus, kind: DropKind) -> Bool {
        switch (self, next) {
        case (.scheduled, .open):
            return true
        case (.open, .closing), (.closing, .drawn), (.drawn, .settled), (.closing, .settled):
            return kind.isDrawn
        case (.open, .closed), (.closed, .settled), (.open, .settled):
            return kind == .openRun
        case (.scheduled, .cancelled), (.open, .cancelled):
            return true
        case (.closing, .cancelled), (.drawn, .cancelled):
            return kind.isDrawn
        case (.closed, .cancelled):
            return kind == .openRun
        default:
            return false
        }
    }

    public var isFinal: Bool { self == .settled || self == .cancelled }
}

/// A status change that the state machine forbids.
public struct InvalidDropTransition: Error, CustomStringConvertible, Sendable {
    public let from: DropStatus
    public let to: DropStatus
    public let kind: DropKind
    public var description: String { "a \(kind.rawValue) drop cannot move from \(from.rawValue) to \(to.rawValue)" }
}

extension DropStatus {
    /// Returns `next` or throws when the move is not allowed.
    public func moved(to next: DropStatus, kind: DropKind) throws -> DropStatus {
        guard canMove(to: next, kind: kind) else { throw InvalidDropTransition(from: self, to: next, kind: kind) }
        return next
    }
}
