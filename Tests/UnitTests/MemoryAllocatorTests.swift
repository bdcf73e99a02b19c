import MemoryAllocator
import Testing

/// The executable and this test binary are linked against jemalloc (issue 16), and jemalloc,
/// not the C library, answers `malloc`: linking a library that is never asked would pass a
/// check of the linking alone, so the test allocates and reads jemalloc's own count.
@Suite struct MemoryAllocatorTests {
    @Test func jemallocAnswersMalloc() throws {
        #expect(MemoryAllocator.isJemalloc)
        #expect(MemoryAllocator.name.hasPrefix("jemalloc 5."), "\(MemoryAllocator.name)")
        let before = try #require(MemoryAllocator.allocatedBytes())
        let size = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { block.deallocate() }
        block.initializeMemory(as: UInt8.self, repeating: 1, count: size)
        let during = try #require(MemoryAllocator.allocatedBytes())
        // Other threads of the test process allocate and free meanwhile, so not exactly `size`;
        // under glibc's malloc jemalloc would count next to nothing.
        #expect(during - before >= size / 2, "jemalloc counted \(during - before) more bytes after a \(size)-byte allocation")
    }
}
