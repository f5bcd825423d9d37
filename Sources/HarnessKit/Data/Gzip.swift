import CZlib
import Foundation

/// gzip (RFC 1952) and zlib (RFC 1950) streams through the system zlib.
public enum Gzip {
    /// Inflates a gzip or zlib stream (the header decides: window bits 15 + 32).
    ///
    /// Concatenated gzip members decode to the concatenation of their contents, as
    /// `gunzip` does; trailing zero bytes (padding some tools add) are ignored. A
    /// stream that stops early, fails its checksum, or is followed by other bytes is
    /// an error naming `file`.
    public static func decompress(_ data: Data, file: String) throws -> Data {
        guard !data.isEmpty else { throw HarnessError("\(file): empty file, expected gzip data") }

        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, MAX_WBITS + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw HarnessError("\(file): could not start zlib (inflateInit2 returned \(initStatus))")
        }
        defer { inflateEnd(&stream) }

        var output = Data(count: initialOutputSize(for: data))
        var produced = 0

        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            // zlib counts in 32-bit `uInt`, so input and output are handed over in
            // windows of at most UInt32.max bytes.
            let base = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
            stream.next_in = base
            while true {
                let consumed = stream.next_in - base
                if stream.avail_in == 0 && consumed < input.count {
                    stream.avail_in = uInt(min(input.count - consumed, Int(UInt32.max)))
                }
                if produced == output.count { output.count += max(output.count, 1 << 16) }

                let status: Int32 = output.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) in
                    let room = min(out.count - produced, Int(UInt32.max))
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                    stream.avail_out = uInt(room)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return status
                }
                let position = stream.next_in - base

                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let rest = UnsafeRawBufferPointer(rebasing: input[position...])
                    if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) { return }
                    if rest.count >= 2 && rest[0] == 0x1F && rest[1] == 0x8B {
                        // Another gzip member follows.
                        inflateReset(&stream)
                        continue
                    }
                    throw HarnessError(
                        "\(file): \(rest.count) unexpected bytes after the end of the compressed stream "
                            + "(at byte \(position) of \(input.count))")
                case Z_BUF_ERROR where stream.avail_out > 0 && position == input.count:
                    throw HarnessError(
                        "\(file): truncated gzip data: the compressed stream ends without its end marker "
                            + "after \(input.count) bytes (\(produced) bytes decoded); the file is incomplete")
                case Z_BUF_ERROR:
                    continue  // The output was full; the loop grows it.
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid compressed data"
                    throw HarnessError("\(file): corrupt gzip data (\(reason)) near compressed byte \(position)")
                case Z_MEM_ERROR:
                    throw HarnessError("\(file): out of memory while decompressing (\(produced) bytes decoded)")
                default:
                    throw HarnessError("\(file): zlib inflate failed with status \(status)")
                }
            }
        }
        output.count = produced
        return output
    }

    /// A gzip stream (one member, default compression level) holding `data`.
    public static func compress(_ data: Data) -> Data {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, MAX_WBITS + 16, 8,
                                       Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit2 failed with status \(initStatus)")
        defer { deflateEnd(&stream) }

        var output = Data(count: Int(deflateBound(&stream, uLong(data.count))))
        var produced = 0
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            var consumed = 0
            while true {
                let chunk = min(input.count - consumed, Int(UInt32.max))
                let last = consumed + chunk == input.count
                stream.next_in = input.baseAddress.map {
                    UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self) + consumed)
                }
                stream.avail_in = uInt(chunk)
                var status: Int32
                repeat {
                    if produced == output.count { output.count += max(output.count, 1 << 16) }
                    status = output.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) in
                        let room = min(out.count - produced, Int(UInt32.max))
                        stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                        stream.avail_out = uInt(room)
                        let status = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
                        produced += room - Int(stream.avail_out)
                        return status
                    }
                    precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
                                 "deflate failed with status \(status)")
                } while last ? status != Z_STREAM_END : stream.avail_in > 0
                consumed += chunk
                if last { return }
            }
        }
        output.count = produced
        return output
    }

    /// How much room to give the first inflate call. A single gzip member ends with
    /// its uncompressed size mod 2^32; deflate never expands more than about 1032:1,
    /// which bounds what a damaged trailer can make us allocate.
    private static func initialOutputSize(for data: Data) -> Int {
        let ceiling = data.count.multipliedReportingOverflow(by: 1032)
        let limit = ceiling.overflow ? Int.max : ceiling.partialValue
        guard data.count >= 18, data.first == 0x1F else { return min(limit, max(data.count * 4, 1 << 16)) }
        let trailer = data.suffix(4)
        let stated = trailer.reversed().reduce(0) { ($0 << 8) | Int($1) }
        return max(1, min(stated, limit))
    }
}
