import Logging
import Observability
import Synchronization
import Testing

/// The process-wide log handler writes what `StreamLogHandler` would, though it formats
/// metadata only for lines it writes.
@Suite struct DeferredFormattingLogHandlerTests {
    /// Collects what a handler writes.
    final class Lines: TextOutputStream, Sendable {
        private let text = Mutex("")
        var all: String { text.withLock { $0 } }
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    @Test func writesTheLinesAStreamLogHandlerWould() throws {
        let ours = Lines()
        let theirs = Lines()
        var deferred = Logger(label: "shop") { label in
            DeferredFormattingLogHandler(label: label, level: .info, stream: ours, metadataProvider: nil)
        }
        var stream = Logger(label: "shop") { label in StreamLogHandler(label: label, stream: theirs, metadataProvider: nil) }
        for index in 0..<2 {
            deferred[metadataKey: "request"] = "r\(index)"
            stream[metadataKey: "request"] = "r\(index)"
            deferred.info("entry committed", metadata: ["drop": "7"])
            stream.info("entry committed", metadata: ["drop": "7"])
        }
        #expect(ours.all.contains("request=r1"))
        #expect(ours.all.contains("drop=7 request=r0"))
        // The lines differ only where a second ticked over between the two timestamps.
        let withoutTimestamps = { (text: String) in text.split(separator: "\n").map { $0.drop { $0 != " " } } }
        #expect(withoutTimestamps(ours.all) == withoutTimestamps(theirs.all))
        #expect(withoutTimestamps(ours.all).count == 2)
    }

    /// Where the logger, the metadata provider and the line name the same key, the same one wins
    /// as with `StreamLogHandler`; an error adds the same keys.
    @Test func mergesMetadataAsAStreamLogHandlerWould() {
        struct Refused: Error {}
        let ours = Lines()
        let theirs = Lines()
        let provider = Logger.MetadataProvider { ["trace": "provided", "request": "provided"] }
        var deferred = Logger(label: "shop") { label in
            DeferredFormattingLogHandler(label: label, level: .info, stream: ours, metadataProvider: provider)
        }
        var stream = Logger(label: "shop") { label in StreamLogHandler(label: label, stream: theirs, metadataProvider: provider) }
        deferred[metadataKey: "request"] = "own"
        deferred[metadataKey: "drop"] = "own"
        stream[metadataKey: "request"] = "own"
        stream[metadataKey: "drop"] = "own"
        deferred.info("with the line's", metadata: ["drop": "line"])
        stream.info("with the line's", metadata: ["drop": "line"])
        deferred.info("without")
        stream.info("without")
        deferred.error("failed", error: Refused())
        stream.error("failed", error: Refused())
        let withoutTimestamps = { (text: String) in text.split(separator: "\n").map { $0.drop { $0 != " " } } }
        #expect(withoutTimestamps(ours.all) == withoutTimestamps(theirs.all))
        #expect(withoutTimestamps(ours.all).count == 3)
        #expect(ours.all.contains("drop=line request=provided trace=provided"))
        #expect(ours.all.contains("drop=own request=provided trace=provided"))
        #expect(ours.all.contains("error.type="))
    }

    @Test func leavesOutLinesBelowItsLevelAndAddsProvidedMetadata() {
        let lines = Lines()
        let provider = Logger.MetadataProvider { ["trace": "t1"] }
        var logger = Logger(label: "shop") { label in
            DeferredFormattingLogHandler(label: label, level: .warning, stream: lines, metadataProvider: provider)
        }
        logger.info("not written")
        logger.warning("written")
        #expect(!lines.all.contains("not written"))
        #expect(lines.all.contains("warning shop: trace=t1 [UnitTests] written"))
        logger.logLevel = .debug
        logger.debug("now written")
        #expect(lines.all.contains("now written"))
    }
}
