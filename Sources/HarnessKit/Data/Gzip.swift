import CZlib
import Foundation

/// gzip (RFC 1952) and zlib (RFC 1950) streams through the system zlib.
///
/// Decoding is streaming: `inflate` hands out the decoded bytes in pieces of at most
/// `chunkSize` as zlib produces them and keeps nothing itself, so what a caller holds is
/// what it chose to keep. No size written in the data (the gzip ISIZE trailer) sizes an
/// allocation; zlib compares the trailer with the decoded length (mod 2^32, as gzip
/// defines it) once a member has been inflated.
public enum Gzip {
    /// The largest piece `inflate` hands out at once; its one output buffer has this size.
    public static let chunkSize = 1 << 16

    /// What `decompress` returns at most unless told otherwise: 1 GiB, far above any
    /// data set file harness reads (Fashion-MNIST's largest is 47 MB).
    public static let defaultLimit = 1 << 30

    /// Inflates a gzip or zlib stream (the header decides: window bits 15 + 32), handing
    /// each piece of decoded output to `consume` as soon as it is produced. `consume` may
    /// throw to stop decoding at once.
    ///
    /// Concatenated gzip members decode to the concatenation of their contents, as `gunzip`
    /// does; trailing zero bytes (padding some tools add) are ignored. A stream that stops
    /// early, fails its checksum or length check, or is followed by other bytes is an error
    /// naming `file`. For a stream that stops early, `shortfall` may add what is missing
    /// (it is asked after the last piece was consumed).
    public static func inflate(_ data: Data, file: String, shortfall: () -> String? = { nil },
                               _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !data.isEmpty else { throw HarnessError("\(file): empty file, expected gzip data") }

        // zlib keeps a pointer back to its z_stream, so the struct lives at a fixed address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1); stream.deallocate() }
        let initStatus = inflateInit2_(stream, MAX_WBITS + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw HarnessError("\(file): could not start zlib (inflateInit2 returned \(initStatus))")
        }
        defer { inflateEnd(stream) }

        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { output.deallocate() }
        let outputBase = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var produced = 0

        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            // zlib counts in 32-bit `uInt`, so input is handed over in windows of at most
            // UInt32.max bytes.
            let base = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
            stream.pointee.next_in = base
            stream.pointee.avail_in = 0
            while true {
                let consumed = stream.pointee.next_in - base
                if stream.pointee.avail_in == 0 && consumed < input.count {
                    stream.pointee.avail_in = uInt(min(input.count - consumed, Int(UInt32.max)))
                }
                stream.pointee.next_out = outputBase
                stream.pointee.avail_out = uInt(chunkSize)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                let piece = chunkSize - Int(stream.pointee.avail_out)
                if piece > 0 {
                    produced += piece
                    try consume(UnsafeRawBufferPointer(start: outputBase, count: piece))
                }
                let position = stream.pointee.next_in - base

                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let rest = UnsafeRawBufferPointer(rebasing: input[position...])
                    if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) { return }
                    if rest.count >= 2 && rest[0] == 0x1F && rest[1] == 0x8B {
                        // Another gzip member follows.
                        inflateReset(stream)
                        continue
                    }
                    throw HarnessError(
                        "\(file): \(rest.count) unexpected bytes after the end of the compressed stream "
                            + "(at byte \(position) of \(input.count))")
                case Z_BUF_ERROR where position == input.count:
                    // No progress and no input left: the stream needs bytes the file lacks.
                    throw HarnessError(
                        "\(file): truncated gzip data: the compressed stream ends without its end marker "
                            + "after \(input.count) bytes (\(produced) bytes decoded); the file is incomplete"
                            + (shortfall().map { "; " + $0 } ?? ""))
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid compressed data"
                    throw HarnessError("\(file): corrupt gzip data (\(reason)) near compressed byte \(position)")
                case Z_MEM_ERROR:
                    throw HarnessError("\(file): out of memory while decompressing (\(produced) bytes decoded)")
                default:
                    // Z_BUF_ERROR with input left and a fresh output buffer cannot happen; if
                    // it did, looping would never end.
                    throw HarnessError("\(file): zlib inflate failed with status \(status) "
                        + "near compressed byte \(position)")
                }
            }
        }
    }

    /// Inflates a whole gzip or zlib stream into memory (see `inflate` for what is
    /// accepted). Decoding stops with an error naming `file` as soon as the output would
    /// exceed `limit` bytes; the buffer grows with the output, never ahead of it.
    public static func decompress(_ data: Data, file: String, limit: Int = defaultLimit) throws -> Data {
        var output = Data()
        try inflate(data, file: file) { piece in
            guard piece.count <= limit - output.count else {
                throw HarnessError("\(file): decompresses to more than \(limit) bytes, "
                    + "more than harness reads from one file")
            }
            output.append(contentsOf: piece)
        }
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
}
