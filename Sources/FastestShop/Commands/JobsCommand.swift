import ArgumentParser
import Foundation
import JobQueue
import Redis
import Settings

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and repair the job queues.",
        subcommands: [Stats.self, Dead.self, Retry.self])

    /// Connects to the queue the settings name.
    static func withQueue<T>(_ options: SettingsOptions, _ body: (JobQueue) async throws -> T) async throws -> T {
        let settings = try await options.load()
        let catalog = try ProcessSetup.loadCatalog(settings)
        let redis = RedisClient(configuration: settings.redisConfiguration)
        defer { redis.shutdown() }
        do {
            return try await body(ProcessSetup.jobQueue(settings, redis: redis, catalog: catalog))
        } catch let error as RedisError {
            throw CommandFailure(message: "jobs: \(error)")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per-queue depth, in-flight, delayed, dead, and live workers.")
        @OptionGroup var settings: SettingsOptions

        func run() async throws {
            let overview = try await JobsCommand.withQueue(settings) { try await $0.overview() }
            print("queue".padding(toLength: 16, withPad: " ", startingAt: 0) + "  waiting  in-flight  delayed     dead")
            for stats in overview.queues {
                print(
                    stats.queue.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + String(format: "  %7d  %9d  %7d  %7d", stats.waiting, stats.inFlight, stats.delayed, stats.dead))
            }
            print("live workers: \(overview.liveWorkers.count)")
            for worker in overview.liveWorkers { print("  \(worker)") }
        }
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead jobs (used their last attempt), newest first.")
        @OptionGroup var settings: SettingsOptions
        @Option(help: "How many to list.") var limit = 50

        func run() async throws {
            let dead = try await JobsCommand.withQueue(settings) { try await $0.deadJobs(limit: limit) }
            if dead.isEmpty { print("no dead jobs") }
            for entry in dead {
                let when = Date(timeIntervalSince1970: Double(entry.diedAtMilliseconds) / 1000)
                print(
                    "\(entry.job.id)  \(entry.job.kind)  queue=\(entry.job.queue)  attempts=\(entry.job.attempt)/\(entry.job.maxAttempts)  died=\(when)"
                )
                print("    error: \(entry.error)")
                print("    payload: \(entry.job.payload)")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-queue a dead job as a fresh first attempt.")
        @OptionGroup var settings: SettingsOptions
        @Argument(help: "The dead job's id.") var id: String

        func run() async throws {
            switch try await JobsCommand.withQueue(settings, { try await $0.resurrect(id: id) }) {
            case .requeued:
                print("jobs: re-queued \(id)")
            case .notFound:
                throw CommandFailure(message: "jobs: no dead job with id \(id)")
            case .uniqueKeyHeld:
                throw CommandFailure(message: "jobs: \(id) not re-queued: another job with its unique key is waiting or running")
            }
        }
    }
}
