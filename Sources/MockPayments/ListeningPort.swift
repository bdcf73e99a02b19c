import Synchronization

/// The port the server bound, announced once; waiters learn it, or that the server stopped.
final class ListeningPort: Sendable {
    private typealias Waiter = CheckedContinuation<Int, any Error>

    private enum State {
        case starting([Waiter])
        case listening(Int)
        case stopped
    }

    private let state = Mutex(State.starting([]))

    func announce(_ port: Int) {
        let waiters = state.withLock { state -> [Waiter] in
            guard case .starting(let waiters) = state else { return [] }
            state = .listening(port)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The server is gone: waiters, now and later, fail.
    func stop() {
        let waiters = state.withLock { state -> [Waiter] in
            defer { state = .stopped }
            guard case .starting(let waiters) = state else { return [] }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: Self.notListening) }
    }

    func wait() async throws(MockPaymentsError) -> Int {
        do {
            return try await withCheckedThrowingContinuation { (waiter: Waiter) in
                let known = state.withLock { state -> Result<Int, MockPaymentsError>? in
                    switch state {
                    case .starting(let waiters):
                        state = .starting(waiters + [waiter])
                        return nil
                    case .listening(let port):
                        return .success(port)
                    case .stopped:
                        return .failure(Self.notListening)
                    }
                }
                if let known { waiter.resume(with: known) }
            }
        } catch let error as MockPaymentsError {
            throw error
        } catch {
            preconditionFailure("only MockPaymentsError is thrown here: \(error)")
        }
    }

    private static let notListening = MockPaymentsError(.notListening, "mock-payments: the provider is not listening")
}
