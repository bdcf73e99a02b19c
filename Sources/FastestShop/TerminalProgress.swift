import Foundation
import Synchronization

/// Progress of long work (`verify`, `audit`, `bench draw`) as one line on stderr that rewrites
/// itself, and only when stderr is a terminal: a log file or a pipe gets none of it, and stdout
/// (results, `--json`) is never touched. Updates are thinned to ten a second.
final class TerminalProgress: Sendable {
    private let label: String
    private let enabled: Bool
    private let state = Mutex<(shown: Bool, last: ContinuousClock.Instant?)>((false, nil))

    init(_ label: String) {
        self.label = label
        enabled = isatty(STDERR_FILENO) == 1
    }

    func update(_ line: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let show = state.withLock { state -> Bool in
            if let last = state.last, last.duration(to: now) < .milliseconds(100) { return false }
            state = (true, now)
            return true
        }
        // Carriage return and erase-line: the line is rewritten in place.
        if show { FileHandle.standardError.write(Data("\r\u{1B}[2K\(label): \(line)".utf8)) }
    }

    /// Clears the line, so what follows starts on a clean one.
    func finish() {
        guard enabled else { return }
        let shown = state.withLock { state in
            defer { state = (false, nil) }
            return state.shown
        }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
