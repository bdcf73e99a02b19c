import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// Prometheus metrics for roles without an HTTP API of their own (worker, scheduler): swift-metrics
/// bootstrapped into a Prometheus registry, served as text at `GET /metrics`.
public enum MetricsEndpoint {
    /// Bootstraps the process-wide metrics system and returns the HTTP service that exposes it.
    /// Call once per process, before anything creates a metric (metrics made earlier go nowhere).
    public static func bootstrap(host: String, port: Int, logger: Logger) -> any Service {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        // The application is the service: the caller's ServiceGroup starts and stops it.
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}
