import JobQueue
import Redis

/// The handlers a worker process registers, by job kind. Kinds the catalog does not define are
/// left out, so a deployment chooses its kinds with its `jobs/` directory.
public enum WorkerHandlers {
    public static func make(catalog: JobCatalog, redis: RedisClient) -> [String: any JobHandler] {
        var handlers: [String: any JobHandler] = [
            "noop": NoopJobHandler(),
            "probe": ProbeJobHandler(redis: redis),
        ]
        handlers = handlers.filter { catalog[$0.key] != nil }
        return handlers
    }
}
