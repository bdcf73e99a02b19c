import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// The intake's metrics, recorded through swift-metrics into one Prometheus registry that
/// `/metrics` renders. Each service instance owns its registry, so several instances in one
/// process (tests) never mix their figures.
public final class IntakeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// Group-commit batch sizes (requests per transaction).
    let entryBatchSize: CoreMetrics.Recorder
    /// Open-run confirmation batch sizes (admitted buyers served by one `FOR UPDATE`).
    let purchaseBatchSize: CoreMetrics.Recorder
    /// Admission gates loaded from PostgreSQL by purchases (a rush on an unloaded gate loads once).
    let gateLoads: CoreMetrics.Counter
    /// Open-run purchases answered by the admission gate alone (refusals that never reach
    /// PostgreSQL), and purchases decided by a PostgreSQL transaction (admitted buyers, or every
    /// buyer with the `classic` strategy).
    let purchasesDecidedByGate: CoreMetrics.Counter
    let purchasesDecidedInPostgres: CoreMetrics.Counter
    /// bcrypt verifications: one per login attempt, whether or not the account exists.
    let passwordVerifications: CoreMetrics.Counter
    let productCacheHits: CoreMetrics.Counter
    let productCacheMisses: CoreMetrics.Counter
    /// Loads from PostgreSQL after a miss: with single-flight, at most one per key at a time.
    let productCacheLoads: CoreMetrics.Counter
    /// Redis failures while reading or filling the cache (reads then fall back to PostgreSQL).
    let productCacheErrors: CoreMetrics.Counter
    /// Charge successes for orders already expired, failed or cancelled (each refunded).
    let lateSuccesses: CoreMetrics.Counter

    /// Business figures, counted where they happen (names in docs/operations.md).
    /// Entries committed by a 201 (a repeated entry's 200 is not a new entry).
    let entriesAccepted: CoreMetrics.Counter
    /// Open-run purchases by result: `admitted` (201) or the reason of the refusal.
    private let purchaseResults: [PurchaseResult: CoreMetrics.Counter]
    /// Signed payment callbacks applied, by type (a repeated webhook id is not counted again).
    private let callbackTypes: [String: CoreMetrics.Counter]

    private let requestMetrics = Mutex<[RouteKey: RouteMetrics]>([:])

    /// How an open-run purchase was answered.
    enum PurchaseResult: String, CaseIterable {
        case admitted
        case soldOut = "sold_out"
        case alreadyPurchased = "already_purchased"
        case notOpen = "not_open"
        case notFound = "not_found"
        /// The admission gate was being rebuilt or did not answer in time (503).
        case unavailable
    }

    /// The callback types (docs/payments.md, "Callbacks").
    static let callbackTypeNames = ["charge.succeeded", "charge.failed", "refund.succeeded", "refund.failed"]

    private struct RouteKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct RouteMetrics {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    static let batchSizeBuckets: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["intake_entry_batch_size"] = Self.batchSizeBuckets
        factory.valueHistogramBuckets["intake_purchase_batch_size"] = Self.batchSizeBuckets
        self.factory = factory
        entryBatchSize = CoreMetrics.Recorder(label: "intake_entry_batch_size", factory: factory)
        purchaseBatchSize = CoreMetrics.Recorder(label: "intake_purchase_batch_size", factory: factory)
        gateLoads = CoreMetrics.Counter(label: "intake_gate_loads_total", factory: factory)
        purchasesDecidedByGate = CoreMetrics.Counter(
            label: "intake_purchase_decisions_total", dimensions: [("by", "gate")], factory: factory)
        purchasesDecidedInPostgres = CoreMetrics.Counter(
            label: "intake_purchase_decisions_total", dimensions: [("by", "postgres")], factory: factory)
        passwordVerifications = CoreMetrics.Counter(label: "intake_password_verifications_total", factory: factory)
        productCacheHits = CoreMetrics.Counter(label: "intake_product_cache_hits_total", factory: factory)
        productCacheMisses = CoreMetrics.Counter(label: "intake_product_cache_misses_total", factory: factory)
        productCacheLoads = CoreMetrics.Counter(label: "intake_product_cache_loads_total", factory: factory)
        productCacheErrors = CoreMetrics.Counter(label: "intake_product_cache_errors_total", factory: factory)
        lateSuccesses = CoreMetrics.Counter(label: "payments_late_success_total", factory: factory)
        entriesAccepted = CoreMetrics.Counter(label: "fastest_entries_accepted_total", factory: factory)
        // Every label value made up front: a dashboard sees a 0, not a missing series.
        purchaseResults = Dictionary(
            uniqueKeysWithValues: PurchaseResult.allCases.map {
                ($0, CoreMetrics.Counter(label: "fastest_purchases_total", dimensions: [("result", $0.rawValue)], factory: factory))
            })
        callbackTypes = Dictionary(
            uniqueKeysWithValues: Self.callbackTypeNames.map {
                ($0, CoreMetrics.Counter(label: "fastest_payment_callbacks_total", dimensions: [("type", $0)], factory: factory))
            })
    }

    func purchaseAnswered(_ result: PurchaseResult) {
        purchaseResults[result]?.increment()
    }

    func callbackApplied(type: String) {
        callbackTypes[type]?.increment()
    }

    /// A gauge of the sampled state (``MetricsSampler``); the registry keeps one per name and labels.
    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory)
    }

    /// Counts one answered request and its latency, by route template (bounded cardinality).
    func recordRequest(route: String, method: String, status: Int, nanoseconds: Int64) {
        let key = RouteKey(route: route, method: method, status: status)
        let metrics = requestMetrics.withLock { cache in
            if let existing = cache[key] { return existing }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let created = RouteMetrics(
                count: CoreMetrics.Counter(label: "http_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions, factory: factory))
            cache[key] = created
            return created
        }
        metrics.count.increment()
        metrics.duration.recordNanoseconds(nanoseconds)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
