#if !FASTEST_SHOP_SYSTEM_MALLOC
    import CJemalloc
#endif

/// The allocator behind `malloc` in this process: jemalloc, linked into the executable
/// (issue 16; docs/benchmarks.md has what it changes), or the C library's when built with
/// `FASTEST_SHOP_MALLOC=system` to measure against it.
public enum MemoryAllocator {
    /// `jemalloc <version>` or `glibc malloc`, for logs and benchmark reports.
    public static var name: String {
        #if FASTEST_SHOP_SYSTEM_MALLOC
            return "glibc malloc"
        #else
            var version: UnsafePointer<CChar>?
            var length = MemoryLayout<UnsafePointer<CChar>?>.size
            guard mallctl("version", &version, &length, nil, 0) == 0, let version else { return "jemalloc" }
            return "jemalloc " + String(cString: version)
        #endif
    }

    /// Whether `malloc` is jemalloc's.
    public static var isJemalloc: Bool {
        #if FASTEST_SHOP_SYSTEM_MALLOC
            return false
        #else
            return true
        #endif
    }

    /// Bytes that jemalloc has handed out and not had back, as of now; nil under glibc.
    /// (A process whose `malloc` resolved elsewhere would show jemalloc nearly idle: the test
    /// of the linking reads this.)
    public static func allocatedBytes() -> Int? {
        #if FASTEST_SHOP_SYSTEM_MALLOC
            return nil
        #else
            // jemalloc's statistics are a snapshot refreshed by writing "epoch".
            var epoch: UInt64 = 1
            guard mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
            var allocated = 0
            var length = MemoryLayout<Int>.size
            guard mallctl("stats.allocated", &allocated, &length, nil, 0) == 0 else { return nil }
            return allocated
        #endif
    }
}
