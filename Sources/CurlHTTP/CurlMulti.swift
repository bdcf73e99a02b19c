import CCurl
import CCurlShims
import Glibc

/// libcurl's multi handle and the epoll set its sockets are watched in, owned and freed together.
///
/// Lives on the client's driver thread (``ThreadConfined``): opened there, touched only there,
/// freed there at shutdown. It runs libcurl's event-driven interface (`curl_multi_socket_action`):
/// libcurl tells it through the socket and timer callbacks (whose context pointer is this object)
/// which sockets to watch and when its timer is due, and each wake-up handles only the sockets
/// that are ready, so ten thousand open transfers cost no more per event than ten
/// (`curl_multi_perform`/`poll` would walk all of them on every wake-up).
final class CurlMulti {
    let handle: UnsafeMutableRawPointer
    private let epoll: Int32
    private let wakeup: CurlWakeup
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` handled next; nil for no timer.
    fileprivate var timerDeadline: ContinuousClock.Instant?
    private var events = [epoll_event](repeating: epoll_event(), count: 512)
    private var stillRunning: Int32 = 0

    /// - Parameters:
    ///   - maxConnectionsPerHost: 0 for no limit.
    ///   - maxIdleConnections: connections kept open for reuse (the multi handle's connection cache).
    init(wakeup: CurlWakeup, maxConnectionsPerHost: Int, maxIdleConnections: Int) {
        CurlGlobal.initialize()
        guard let handle = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.handle = handle
        self.wakeup = wakeup
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "cannot create the HTTP client's epoll set")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeup.descriptor
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup.descriptor, &event)

        fs_curl_multi_setopt_long(handle, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        fs_curl_multi_setopt_long(handle, CURLMOPT_MAXCONNECTS, maxIdleConnections)
        let context = Unmanaged.passUnretained(self).toOpaque()
        fs_curl_multi_setopt_socket_callback(handle, curlSocketCallback)
        fs_curl_multi_setopt_pointer(handle, CURLMOPT_SOCKETDATA, context)
        fs_curl_multi_setopt_timer_callback(handle, curlTimerCallback)
        fs_curl_multi_setopt_pointer(handle, CURLMOPT_TIMERDATA, context)
    }

    deinit {
        // Cleanup closes cached connections, which calls back: the callbacks must not reach an
        // object that is being freed.
        fs_curl_multi_setopt_pointer(handle, CURLMOPT_SOCKETDATA, nil)
        fs_curl_multi_setopt_pointer(handle, CURLMOPT_TIMERDATA, nil)
        curl_multi_cleanup(handle)
        close(epoll)
    }

    /// Starts a prepared transfer. Adding a handle arms libcurl's timer at zero, so the next
    /// ``waitAndAct()`` starts it without waiting.
    func add(_ easy: UnsafeMutableRawPointer) {
        curl_multi_add_handle(handle, easy)
    }

    func remove(_ easy: UnsafeMutableRawPointer) {
        curl_multi_remove_handle(handle, easy)
    }

    /// Waits (at most a second) until a socket is ready, libcurl's timer is due or a submitter
    /// signalled the wake-up, and lets libcurl act on what happened.
    func waitAndAct() {
        let waitMilliseconds: Int32
        if let deadline = timerDeadline {
            let remaining = ContinuousClock.now.duration(to: deadline)
            waitMilliseconds =
                remaining <= .zero
                ? 0
                : Int32(
                    min(
                        1000,
                        remaining.components.seconds * 1000
                            + remaining.components.attoseconds / 1_000_000_000_000_000 + 1))
        } else {
            waitMilliseconds = 1000
        }
        let ready = events.withUnsafeMutableBufferPointer {
            epoll_wait(epoll, $0.baseAddress, Int32($0.count), waitMilliseconds)
        }
        if ready > 0 {
            for index in 0..<Int(ready) {
                let event = events[index]
                let fd = event.data.fd
                if fd == wakeup.descriptor {
                    wakeup.consume()
                    continue
                }
                var flags: Int32 = 0
                if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
                if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
                if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
                curl_multi_socket_action(handle, fd, flags, &stillRunning)
            }
        }
        if let deadline = timerDeadline, deadline <= ContinuousClock.now {
            timerDeadline = nil
            curl_multi_socket_action(handle, fs_curl_socket_timeout, 0, &stillRunning)
        }
    }

    /// The next finished transfer (its easy handle, still added, and its result); nil when none is left.
    func nextFinished() -> (easy: UnsafeMutableRawPointer, result: CURLcode)? {
        var remaining: Int32 = 0
        let done = fs_curl_multi_info_read_done(handle, &remaining)
        guard done.is_done != 0, let easy = done.easy else { return nil }
        return (easy, done.result)
    }

    /// libcurl asks to watch (or stop watching) a socket.
    fileprivate func watch(_ socket: Int32, what: Int32) {
        var event = epoll_event()
        event.data.fd = socket
        switch what {
        case CURL_POLL_REMOVE:
            epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
            return
        case CURL_POLL_IN: event.events = EPOLLIN.rawValue
        case CURL_POLL_OUT: event.events = EPOLLOUT.rawValue
        default: event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue
        }
        if epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT {
            epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
        }
    }
}

private func curlSocketCallback(
    _ easy: UnsafeMutableRawPointer?, _ socket: curl_socket_t, _ what: Int32,
    _ context: UnsafeMutableRawPointer?, _ socketContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<CurlMulti>.fromOpaque(context).takeUnretainedValue().watch(socket, what: what)
    return 0
}

private func curlTimerCallback(_ multi: UnsafeMutableRawPointer?, _ timeoutMilliseconds: Int, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    let owner = Unmanaged<CurlMulti>.fromOpaque(context).takeUnretainedValue()
    owner.timerDeadline = timeoutMilliseconds < 0 ? nil : ContinuousClock.now + .milliseconds(timeoutMilliseconds)
    return 0
}
