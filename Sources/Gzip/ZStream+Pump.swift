import CZlib

extension z_stream {
    /// Feeds `input` to zlib through `step` (one `inflate` or `deflate` call) and collects what
    /// it writes, 64 KiB at a time, for as long as `more` says zlib has more to give; returns
    /// zlib's last status and the output. The one loop of both directions.
    mutating func pump(
        _ input: [UInt8], step: (inout z_stream) -> Int32, more: (_ status: Int32, _ stream: z_stream) -> Bool
    ) -> (status: Int32, output: [UInt8]) {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        input.withUnsafeBufferPointer { source in
            next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            avail_in = UInt32(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { target in
                    next_out = target.baseAddress
                    avail_out = UInt32(target.count)
                    status = step(&self)
                    output.append(contentsOf: target[0..<(target.count - Int(avail_out))])
                }
            } while more(status, self)
            next_in = nil
        }
        return (status, output)
    }
}
