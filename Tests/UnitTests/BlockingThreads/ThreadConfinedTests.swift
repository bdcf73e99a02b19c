import Glibc
import Synchronization
import Testing

@testable import BlockingThreads

/// The handle's life: opened on first use, replaced after it broke, never opened by a question
/// about the current session, closed on its own thread at shutdown.
@Suite struct ThreadConfinedTests {
    /// A stand-in C handle: counts how many were opened and closed, and can be broken.
    final class FakeHandle: @unchecked Sendable {
        let serial: Int
        var broken = false
        let opener: Opener
        init(serial: Int, opener: Opener) {
            self.serial = serial
            self.opener = opener
        }
        deinit {
            opener.closed.withLock { $0.append(serial) }
            opener.closingThreads.withLock { $0.append(pthread_self()) }
        }
    }

    final class Opener: Sendable {
        let opened = Atomic<Int>(0)
        let closed = Mutex<[Int]>([])
        let openingThreads = Mutex<[pthread_t]>([])
        let closingThreads = Mutex<[pthread_t]>([])
        let failing = Atomic<Bool>(false)

        func confined() -> ThreadConfined<FakeHandle> {
            ThreadConfined(
                name: "fake",
                open: {
                    if self.failing.load(ordering: .relaxed) { throw FakeOpenFailed() }
                    self.openingThreads.withLock { $0.append(pthread_self()) }
                    return FakeHandle(serial: self.opened.add(1, ordering: .relaxed).newValue, opener: self)
                },
                isBroken: { $0.broken })
        }
    }

    struct FakeOpenFailed: Error {}
    struct BodyFailed: Error {}

    @Test func theHandleIsOpenedOnceAndReused() async throws {
        let opener = Opener()
        let confined = opener.confined()
        defer { confined.shutdown() }
        #expect(opener.opened.load(ordering: .relaxed) == 0, "nothing is opened before it is needed")
        let first = try await confined.run { $0.serial }
        let second = try await confined.run { $0.serial }
        #expect(first == 1 && second == 1)
        #expect(opener.opened.load(ordering: .relaxed) == 1)
    }

    @Test func aHandleLeftBrokenIsReplacedOnTheNextRun() async throws {
        let opener = Opener()
        let confined = opener.confined()
        defer { confined.shutdown() }
        await #expect(throws: BodyFailed.self) {
            try await confined.run { handle -> Int in
                handle.broken = true
                throw BodyFailed()
            }
        }
        #expect(opener.closed.withLock { $0 } == [1], "the broken handle was closed")
        let serial = try await confined.run { $0.serial }
        #expect(serial == 2)
    }

    @Test func aFailedRunOnAHealthyHandleKeepsIt() async throws {
        let opener = Opener()
        let confined = opener.confined()
        defer { confined.shutdown() }
        await #expect(throws: BodyFailed.self) {
            try await confined.run { _ -> Int in throw BodyFailed() }
        }
        let serial = try await confined.run { $0.serial }
        #expect(serial == 1)
    }

    @Test func runIfOpenNeverOpensAndForgetsABrokenHandle() async throws {
        let opener = Opener()
        let confined = opener.confined()
        defer { confined.shutdown() }
        let before = try await confined.runIfOpen { $0?.serial }
        #expect(before == nil)
        #expect(opener.opened.load(ordering: .relaxed) == 0)
        _ = try await confined.run { $0.broken = true }
        let after = try await confined.runIfOpen { $0?.serial }
        #expect(after == nil, "a broken session is not the session any more")
        #expect(opener.opened.load(ordering: .relaxed) == 1)
    }

    @Test func aHandleThatCannotBeOpenedFailsTheRunAndIsTriedAgainNextTime() async throws {
        let opener = Opener()
        let confined = opener.confined()
        defer { confined.shutdown() }
        opener.failing.store(true, ordering: .relaxed)
        await #expect(throws: FakeOpenFailed.self) { try await confined.run { $0.serial } }
        let failures = Mutex<Int>(0)
        let ran = Atomic<Bool>(false)
        let accepted = confined.start({ _ in ran.store(true, ordering: .relaxed) }, ifNoHandle: { _ in failures.withLock { $0 += 1 } })
        #expect(accepted)
        // Work runs in order: once this run failed, the started work has been tried too.
        await #expect(throws: FakeOpenFailed.self) { try await confined.run { $0.serial } }
        opener.failing.store(false, ordering: .relaxed)
        let serial = try await confined.run { $0.serial }
        #expect(serial == 1)
        #expect(failures.withLock { $0 } == 1 && !ran.load(ordering: .relaxed))
    }

    @Test func workQueuedJustBeforeShutdownLeavesNoHandleOpen() async throws {
        let opener = Opener()
        let confined = opener.confined()
        // The last item before shutdown opens a handle (its predecessor broke the first one):
        // it is closed as the thread ends, on that thread.
        _ = try await confined.run { $0.serial }
        confined.start { $0.broken = true }
        confined.start { _ in }
        confined.shutdown()
        #expect(opener.closed.withLock { $0 }.sorted() == [1, 2])
        let threads = opener.openingThreads.withLock { $0 } + opener.closingThreads.withLock { $0 }
        #expect(threads.count == 4 && Set(threads).count == 1, "opened and closed on the handle's one thread")
    }

    @Test func closeDropsTheHandleAndShutdownClosesItAndRefusesWork() async throws {
        let opener = Opener()
        let confined = opener.confined()
        _ = try await confined.run { $0.serial }
        await confined.close()
        #expect(opener.closed.withLock { $0 } == [1])
        _ = try await confined.run { $0.serial }
        confined.shutdown()
        #expect(opener.closed.withLock { $0 } == [1, 2], "shutdown closed the handle on its thread")
        await #expect(throws: DedicatedThreadStopped.self) { try await confined.run { $0.serial } }
        let accepted = confined.start { _ in }
        #expect(!accepted)
    }
}
