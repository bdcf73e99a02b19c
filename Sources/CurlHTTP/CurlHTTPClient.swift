import CCurl
import CCurlShims
import Foundation

/// An async HTTP client driving many requests concurrently from one thread (libcurl multi).
///
/// Requests are queued and the driver thread is woken with `curl_multi_wakeup`; it adds them to
/// the multi handle, lets libcurl run every transfer, and completes each caller as its transfer
/// ends. Finished easy handles are kept for reuse, and the multi handle's connection cache keeps
/// connections to the same host open across requests.
public final class CurlHTTPClient: @unchecked Sendable {
    private struct Submission {
        let request: HTTPRequest
        let continuation: CheckedContinuation<HTTPResponse, any Error>
    }

    private let multi: UnsafeMutableRawPointer
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var submissions: [Submission] = []
    private var stopping = false
    private var stopped = false
    // Only touched on the driver thread.
    private var running: [UnsafeMutableRawPointer: (CurlTransfer, CheckedContinuation<HTTPResponse, any Error>)] = [:]
    private var idle: [CurlTransfer] = []

    /// - Parameter maxConnectionsPerHost: 0 for no limit.
    public init(name: String = "http", maxConnectionsPerHost: Int = 0, maxIdleConnections: Int = 256) {
        CurlGlobal.initialize()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        fs_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        fs_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxIdleConnections)
        let thread = Thread { self.loop() }
        thread.name = name
        thread.start()
    }

    deinit { curl_multi_cleanup(multi) }

    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if stopping {
                lock.unlock()
                continuation.resume(throwing: HTTPClientError(code: .closed, message: "the client is shut down"))
                return
            }
            submissions.append(Submission(request: request, continuation: continuation))
            lock.unlock()
            curl_multi_wakeup(multi)
        }
    }

    /// Fails queued requests, aborts running ones, and ends the driver thread.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.unlock()
        curl_multi_wakeup(multi)
        lock.lock()
        while !stopped { lock.wait() }
        lock.unlock()
    }

    private func loop() {
        var stillRunning: Int32 = 0
        while true {
            lock.lock()
            let incoming = submissions
            submissions.removeAll(keepingCapacity: true)
            let shouldStop = stopping
            lock.unlock()

            if shouldStop {
                let closed = HTTPClientError(code: .closed, message: "the client is shut down")
                for submission in incoming { submission.continuation.resume(throwing: closed) }
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
                return
            }

            for submission in incoming {
                let transfer = idle.popLast() ?? CurlTransfer()
                transfer.prepare(submission.request)
                running[transfer.handle] = (transfer, submission.continuation)
                curl_multi_add_handle(multi, transfer.handle)
            }

            curl_multi_perform(multi, &stillRunning)
            var remaining: Int32 = 0
            while true {
                let done = fs_curl_multi_info_read_done(multi, &remaining)
                guard done.is_done != 0, let handle = done.easy else { break }
                curl_multi_remove_handle(multi, handle)
                guard let (transfer, continuation) = running.removeValue(forKey: handle) else { continue }
                continuation.resume(with: transfer.finish(done.result).mapError { $0 as any Error })
                idle.append(transfer)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
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
