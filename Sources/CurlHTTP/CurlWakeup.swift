import CCurlShims
import Glibc

/// The eventfd that wakes the curl driver from `epoll_wait` when requests are submitted.
///
/// Submitters write to it from any thread, so it is shared by the client (whose callers write)
/// and the ``CurlMulti`` (whose epoll set watches it), and closed when both have let go: a
/// write can never hit a descriptor number already reused for something else.
final class CurlWakeup: Sendable {
    let descriptor: Int32

    init() {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(descriptor >= 0, "cannot create the HTTP client's eventfd")
    }

    deinit { close(descriptor) }

    func signal() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }

    /// Resets the counter, so the next `epoll_wait` sleeps until the next signal.
    func consume() {
        var value: UInt64 = 0
        _ = read(descriptor, &value, 8)
    }
}
