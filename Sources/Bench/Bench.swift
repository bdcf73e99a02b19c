// Benchmark scenarios.
