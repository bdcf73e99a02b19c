import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// Prometheus metrics for roles without an HTTP API of their own (worker, scheduler): bootstraps
/// swift-metrics into a Prometheus registry and serves it as text at `GET /metrics`.
public struct MetricsEndpoint: Service {
    public let registry: PrometheusCollectorRegistry
    let host: String
    let port: Int
    let logger: Logger

    /// Bootstraps the process-wide metrics system; call once per process.
    public static func bootstrap(host: String, port: Int, logger: Logger) -> MetricsEndpoint {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return MetricsEndpoint(registry: registry, host: host, port: port, logger: logger)
    }

    public func run() async throws {
        let router = Router()
        router.get("/metrics") { [registry] _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        try await application.runService()
    }
}
