import Logging

/// swift-log's `StreamLogHandler` output, formatted only when a line is written.
///
/// `StreamLogHandler` formats a logger's metadata into its line prefix each time any of it is
/// set. Hummingbird gives every request's logger its own `hb.request.id`, so every request
/// paid for sorting, describing and joining metadata for lines that, at the `info` level, are
/// never written: a visible share of the server's CPU under load (perf, entries under `wrk`;
/// docs/benchmarks.md, "Figures that code comments used to quote"). This handler
/// keeps the metadata as it is and hands it to a `StreamLogHandler` when a line is written, so
/// the lines look exactly the same.
public struct DeferredFormattingLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    /// Nil for standard error.
    private let stream: (any TextOutputStream & Sendable)?

    /// Lines go to standard error, like `StreamLogHandler.standardError`.
    public static func standardError(label: String, level: Logger.Level) -> Self {
        Self(label: label, level: level, stream: nil, metadataProvider: LoggingSystem.metadataProvider)
    }

    /// Lines go to `stream`.
    public init(
        label: String, level: Logger.Level, stream: (any TextOutputStream & Sendable)?, metadataProvider: Logger.MetadataProvider?
    ) {
        self.label = label
        self.logLevel = level
        self.stream = stream
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer =
            stream.map { StreamLogHandler(label: label, stream: $0, metadataProvider: nil) }
            ?? StreamLogHandler.standardError(label: label, metadataProvider: nil)
        writer.logLevel = logLevel
        // All metadata goes in as the line's, merged in StreamLogHandler's order (the logger's,
        // the provider's, the line's), so it is formatted once: given the logger's metadata as
        // its own, StreamLogHandler would format that when set and again merged with a line's.
        var event = event
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let line = event.metadata { merged.merge(line) { _, line in line } }
        event.metadata = merged
        writer.log(event: event)
    }
}
