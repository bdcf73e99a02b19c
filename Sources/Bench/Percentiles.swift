import Histogram

/// The latency at `fraction` (0.99 for the 99th percentile) of samples in milliseconds, rounded
/// to 0.01 ms; 0 without samples. Every benchmark reads its percentiles here, from an
/// HdrHistogram at microsecond resolution with three significant digits, so two benchmarks'
/// p99s are computed the same way.
func percentile(_ milliseconds: some Sequence<Double>, _ fraction: Double) -> Double {
    var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    for sample in milliseconds { _ = histogram.record(UInt64(max(0, (sample * 1000).rounded()))) }
    guard histogram.totalCount > 0 else { return 0 }
    let microseconds = histogram.valueAtPercentile(min(100, max(0, fraction * 100)))
    return (Double(microseconds) / 10).rounded() / 100
}
