import BlockingThreads
import CCurl
import CCurlShims
import Synchronization

/// An async HTTP client driving many requests concurrently from one thread (libcurl multi).
///
/// The driver loop runs on the thread that owns the ``CurlMulti`` (a ``ThreadConfined``):
/// callers queue requests and wake it through an eventfd; each turn it adds what was queued,
/// waits on the epoll set for ready sockets or libcurl's timer, and completes the finished
/// transfers. Finished easy handles are kept for reuse, and the multi handle's connection cache
/// keeps connections to the same host open across requests. The queue's decisions are
/// ``CurlSubmissions``'s; this type keeps it under a lock and does what it says.
public final class CurlHTTPClient: Sendable {
    private struct Submission {
        let request: HTTPRequest
        let continuation: CheckedContinuation<HTTPResponse, any Error>
    }

    private let wakeup: CurlWakeup
    private let confined: ThreadConfined<CurlMulti>
    private let submissions = Mutex(CurlSubmissions<Submission>())

    /// - Parameters:
    ///   - maxConnectionsPerHost: 0 for no limit.
    ///   - maxIdleConnections: connections kept open for reuse.
    public init(name: String = "http", maxConnectionsPerHost: Int = 0, maxIdleConnections: Int = 256) {
        CurlGlobal.initialize()
        let wakeup = CurlWakeup()
        self.wakeup = wakeup
        confined = ThreadConfined(
            name: name,
            open: {
                CurlMulti(wakeup: wakeup, maxConnectionsPerHost: maxConnectionsPerHost, maxIdleConnections: maxIdleConnections)
            })
        // One work item for the client's whole life: it returns when shutdown stops it.
        confined.start { multi in self.driverLoop(multi) }
    }

    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await withCheckedThrowingContinuation { continuation in
            switch submissions.withLock({ $0.submit(Submission(request: request, continuation: continuation)) }) {
            case .wake: wakeup.signal()
            case .none: break
            case .refuse: continuation.resume(throwing: Self.closedError)
            }
        }
    }

    /// Fails queued requests, aborts running ones, and ends the driver thread.
    public func shutdown() {
        let queued = submissions.withLock { $0.stop() }
        for submission in queued { submission.continuation.resume(throwing: Self.closedError) }
        wakeup.signal()
        // Waits for the driver loop to end, then frees the multi handle on its thread.
        confined.shutdown()
    }

    private static let closedError = HTTPClientError(code: .closed, message: "the client is shut down")

    // MARK: on the driver thread

    private func driverLoop(_ multi: CurlMulti) {
        var running: [UnsafeMutableRawPointer: (CurlTransfer, CheckedContinuation<HTTPResponse, any Error>)] = [:]
        var idle: [CurlTransfer] = []
        while true {
            switch submissions.withLock({ $0.takeAll() }) {
            case .stop:
                for (handle, (_, continuation)) in running {
                    multi.remove(handle)
                    continuation.resume(throwing: Self.closedError)
                }
                return
            case .add(let incoming):
                for submission in incoming {
                    let transfer = idle.popLast() ?? CurlTransfer()
                    transfer.prepare(submission.request)
                    running[transfer.handle] = (transfer, submission.continuation)
                    multi.add(transfer.handle)
                }
            }
            multi.waitAndAct()
            while let (handle, result) = multi.nextFinished() {
                multi.remove(handle)
                guard let (transfer, continuation) = running.removeValue(forKey: handle) else { continue }
                continuation.resume(with: transfer.finish(result).mapError { $0 as any Error })
                idle.append(transfer)
            }
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
