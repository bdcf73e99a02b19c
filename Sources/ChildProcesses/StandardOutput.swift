import CProcessShims

/// This process's own output.
public enum StandardOutput {
    /// Line-buffered: a banner (dev's URLs, serve's "listening on") reaches a pipe or a file at
    /// once, not when a block buffer fills or the process ends.
    public static func lineBuffered() { fs_line_buffer_standard_output() }
}
