import CCurl
import CCurlShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An async HTTP client driving many requests concurrently from one thread (libcurl multi).
///
/// The driver thread runs libcurl's event-driven interface (`curl_multi_socket_action`) on an
/// epoll set: each wake-up handles only the sockets that are ready, so ten thousand open
/// transfers cost no more per event than ten (`curl_multi_perform`/`poll` would walk all of them
/// on every wake-up). Callers queue requests and wake the thread through an eventfd; finished
/// easy handles are kept for reuse, and the multi handle's connection cache keeps connections to
/// the same host open across requests.
public final class CurlHTTPClient: @unchecked Sendable {
    private struct Submission {
        let request: HTTPRequest
        let continuation: CheckedContinuation<HTTPResponse, any Error>
    }

    private let multi: UnsafeMutableRawPointer
    private let epoll: Int32
    private let wakeup: Int32
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var submissions: [Submission] = []
    private var stopping = false
    private var stopped = false
    // Only touched on the driver thread (libcurl's callbacks run on it too).
    private var running: [UnsafeMutableRawPointer: (CurlTransfer, CheckedContinuation<HTTPResponse, any Error>)] = [:]
    private var idle: [CurlTransfer] = []
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` handled next; nil for no timer.
    fileprivate var timerDeadline: ContinuousClock.Instant?

    /// - Parameters:
    ///   - maxConnectionsPerHost: 0 for no limit.
    ///   - maxIdleConnections: connections kept open for reuse.
    public init(name: String = "http", maxConnectionsPerHost: Int = 0, maxIdleConnections: Int = 256) {
        CurlGlobal.initialize()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epoll >= 0 && wakeup >= 0, "cannot create the HTTP client's epoll set")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeup
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event)

        fs_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        fs_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxIdleConnections)
        let context = Unmanaged.passUnretained(self).toOpaque()
        fs_curl_multi_setopt_socket_callback(multi, curlSocketCallback)
        fs_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        fs_curl_multi_setopt_timer_callback(multi, curlTimerCallback)
        fs_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)

        let thread = Thread { self.loop() }
        thread.name = name
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
        close(epoll)
        close(wakeup)
    }

    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if stopping {
                lock.unlock()
                continuation.resume(throwing: HTTPClientError(code: .closed, message: "the client is shut down"))
                return
            }
            let wasEmpty = submissions.isEmpty
            submissions.append(Submission(request: request, continuation: continuation))
            lock.unlock()
            // One wake-up per batch of submissions is enough: the thread takes them all.
            if wasEmpty { signal() }
        }
    }

    /// Fails queued requests, aborts running ones, and ends the driver thread.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.unlock()
        signal()
        lock.lock()
        while !stopped { lock.wait() }
        lock.unlock()
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 512)
        var stillRunning: Int32 = 0
        while true {
            lock.lock()
            let incoming = submissions
            submissions.removeAll(keepingCapacity: true)
            let shouldStop = stopping
            lock.unlock()

            if shouldStop {
                finish()
                return
            }
            for submission in incoming {
                let transfer = idle.popLast() ?? CurlTransfer()
                transfer.prepare(submission.request)
                running[transfer.handle] = (transfer, submission.continuation)
                // Adding a handle arms libcurl's timer at zero: the timeout branch below starts it.
                curl_multi_add_handle(multi, transfer.handle)
            }

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
                    if fd == wakeup {
                        var value: UInt64 = 0
                        _ = read(wakeup, &value, 8)
                        continue
                    }
                    var flags: Int32 = 0
                    if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
                    if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
                    if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
                    curl_multi_socket_action(multi, fd, flags, &stillRunning)
                }
            }
            if let deadline = timerDeadline, deadline <= ContinuousClock.now {
                timerDeadline = nil
                curl_multi_socket_action(multi, fs_curl_socket_timeout, 0, &stillRunning)
            }
            completeFinishedTransfers()
        }
    }

    private func completeFinishedTransfers() {
        var remaining: Int32 = 0
        while true {
            let done = fs_curl_multi_info_read_done(multi, &remaining)
            guard done.is_done != 0, let handle = done.easy else { break }
            curl_multi_remove_handle(multi, handle)
            guard let (transfer, continuation) = running.removeValue(forKey: handle) else { continue }
            continuation.resume(with: transfer.finish(done.result).mapError { $0 as any Error })
            idle.append(transfer)
        }
    }

    private func finish() {
        lock.lock()
        let queued = submissions
        submissions.removeAll()
        lock.unlock()
        let closed = HTTPClientError(code: .closed, message: "the client is shut down")
        for submission in queued { submission.continuation.resume(throwing: closed) }
        for (handle, (_, continuation)) in running {
            curl_multi_remove_handle(multi, handle)
            continuation.resume(throwing: closed)
        }
        running.removeAll()
        idle.removeAll()
        lock.lock()
        stopped = true
        lock.broadcast()
        lock.unlock()
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
    Unmanaged<CurlHTTPClient>.fromOpaque(context).takeUnretainedValue().watch(socket, what: what)
    return 0
}

private func curlTimerCallback(_ multi: UnsafeMutableRawPointer?, _ timeoutMilliseconds: Int, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    let client = Unmanaged<CurlHTTPClient>.fromOpaque(context).takeUnretainedValue()
    client.timerDeadline = timeoutMilliseconds < 0 ? nil : ContinuousClock.now + .milliseconds(timeoutMilliseconds)
    return 0
}

/// A blocking HTTP client for one thread at a time (command-line tools, tests).
/// Reuses its easy handle, so consecutive requests to one host share a connection.
public final class CurlBlockingHTTPClient {
    private let transfer = CurlTransfer()

    public init() {}

    public func execute(_ request: HTTPRequest) throws -> HTTPResponse {
        transfer.prepare(request)
        return try transfer.finish(curl_easy_perform(transfer.handle)).get()
    }
}
