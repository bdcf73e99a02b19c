import Foundation
import Logging
import Postgres
import Redis
import ShopDomain
import ShopJobs
import Testing

@testable import JobQueue
@testable import Scheduler

/// The scheduler's named maintenance services, one run at a time, on a real PostgreSQL and
/// Redis: what each run does and the outcome it reports.
@Suite struct MaintenanceServiceTests {
    static let logger = Logger(label: "maintenance-test")

    /// The closer ends due drops under the current term only, settles an idle open-run, and
    /// enqueues each closing draw's close job once however often it runs.
    @Test func theDropCloserClosesDueDropsUnderTheCurrentTermAndEnqueuesEachCloseJobOnce() async throws {
        try await withTestDatabase(poolSize: 2) { pool, _ in
            try await withRedisNamespace { redis, prefix in
                try await pool.query("INSERT INTO scheduler_leadership (term, holder) VALUES (7, 'test')")
                let dueDraw = try await DropFixtures.insertDrop(pool, kind: .draw, closesIn: -1)
                let dueOpenRun = try await DropFixtures.insertDrop(pool, kind: .openRun, closesIn: -1)
                let later = try await DropFixtures.insertDrop(pool, kind: .draw, closesIn: 3600)
                let queue = JobQueue(redis: redis, catalog: try JobCatalog.load(directory: ShopProcess.repositoryRoot + "/jobs"), keyPrefix: prefix)
                let closer = DropCloser(pool: pool, queue: queue, hooks: nil, interval: .milliseconds(500), logger: Self.logger)

                let stale = try await closer.runOnce(term: 6)
                #expect(stale == DropCloser.Outcome(closed: [], settled: 0, closeJobsEnqueued: 0), "a stale term moves nothing")

                let first = try await closer.runOnce(term: 7)
                #expect(Set(first.closed.map(\.dropID)) == [dueDraw, dueOpenRun])
                #expect(first.settled == 1, "the open-run closed with nothing pending")
                #expect(first.closeJobsEnqueued == 1)
                #expect(first.counts.map(\.name) == ["closed", "settled", "close_jobs_enqueued"])
                let statuses = try await pool.query("SELECT id, status FROM drops ORDER BY id").map { (try $0.int(0), try $0.string(1)) }
                #expect(statuses.map(\.0) == [dueDraw, dueOpenRun, later])
                #expect(statuses.map(\.1) == ["closing", "settled", "open"])

                let again = try await closer.runOnce(term: 7)
                #expect(again == DropCloser.Outcome(closed: [], settled: 0, closeJobsEnqueued: 0), "the close job is still held")
                let drops = try #require(try await queue.overview().queues.first { $0.queue == "drops" })
                #expect(drops.waiting == 1)
            }
        }
    }

    /// The rescuer takes back the job of a worker that stopped heartbeating and buries the one
    /// that used its last attempt; a second run finds nothing.
    @Test func theJobRescuerTakesBackAndBuriesTheJobsOfADeadWorker() async throws {
        try await withRedisNamespace { redis, prefix in
            let catalog = JobCatalog([
                JobDefinition(
                    kind: "work", queue: "main", timeoutSeconds: 5, maxAttempts: 3,
                    backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
                JobDefinition(
                    kind: "once", queue: "main", timeoutSeconds: 5, maxAttempts: 1,
                    backoffBaseMilliseconds: 1, backoffCapMilliseconds: 1, visibilityTimeoutSeconds: 60),
            ])
            let clock = ManualJobClock(milliseconds: 60_000_000)
            let queue = JobQueue(redis: redis, catalog: catalog, keyPrefix: prefix, clock: .manual(clock))
            let rescuer = JobRescuer(queue: queue, interval: .milliseconds(500), logger: Self.logger)
            _ = try await queue.enqueue([JobQueue.NewJob(kind: "work", payload: "{}"), JobQueue.NewJob(kind: "once", payload: "{}")])
            try await queue.heartbeat(worker: "gone")
            try #require(try await queue.fetch(queue: "main", worker: "gone", limit: 10).count == 2)

            clock.advance(milliseconds: 59_000)
            #expect(try await rescuer.runOnce(term: 1) == JobRescuer.Outcome(rescued: 0, buried: 0), "within the visibility timeout")
            clock.advance(milliseconds: 2_000)
            let outcome = try await rescuer.runOnce(term: 1)
            #expect(outcome == JobRescuer.Outcome(rescued: 1, buried: 1))
            #expect(outcome.counts.map(\.value) == [1, 1])
            let main = try #require(try await queue.overview().queues.first)
            #expect(main.waiting == 1 && main.dead == 1, "\(main)")
            #expect(try await rescuer.runOnce(term: 1) == JobRescuer.Outcome(rescued: 0, buried: 0))
        }
    }

    /// A service runs `interval` after its previous run ended; all are due when leadership begins.
    @Test func theScheduleRunsEachServiceOnItsOwnInterval() {
        let start = ContinuousClock.now
        var schedule = MaintenanceSchedule(intervals: [.milliseconds(100), .milliseconds(1000)], start: start)
        #expect(schedule.due(at: start) == [0, 1])
        schedule.ran(0, endedAt: start)
        schedule.ran(1, endedAt: start + .milliseconds(10))
        #expect(schedule.due(at: start + .milliseconds(99)) == [])
        #expect(schedule.pause(from: start, atMost: .seconds(5)) == .milliseconds(100))
        #expect(schedule.pause(from: start, atMost: .milliseconds(20)) == .milliseconds(20))
        #expect(schedule.due(at: start + .milliseconds(100)) == [0])
        schedule.ran(0, endedAt: start + .milliseconds(100))
        #expect(schedule.due(at: start + .milliseconds(1009)) == [0])
        #expect(schedule.due(at: start + .milliseconds(1010)) == [0, 1])
        #expect(schedule.pause(from: start + .seconds(2), atMost: .seconds(5)) == .zero, "an overdue service runs at once")
    }
}
