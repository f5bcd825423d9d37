import Foundation

/// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
/// a 4-byte big-endian magic number `00 00 <type> <number of dimensions>`, one
/// big-endian UInt32 per dimension, then the values in row-major order. Only the
/// unsigned-byte type (0x08) occurs in these data sets. Files may be stored raw or
/// gzip-compressed; either is accepted whatever the file is called.
///
/// Reading trusts no number in a file for an allocation: the header is checked against
/// `maxRecords` and `maxPayloadBytes` before the data after it is read or inflated, the data
/// buffer grows with what arrives, and inflating stops at the first byte past the header's size.
public enum IDX {
    /// Unsigned bytes, 3 dimensions: count x rows x columns.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Unsigned bytes, 1 dimension: count.
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Images as read from an IDX file: `pixels` holds `count` images of
    /// `rows * columns` bytes each, row-major.
    public struct Images: Sendable, Equatable {
        public let count: Int
        public let rows: Int
        public let columns: Int
        public let pixels: [UInt8]
    }

    // MARK: Limits

    /// The most records (images or labels) one file may declare. The largest files of
    /// Fashion-MNIST and MNIST hold 60,000; EMNIST's largest split about 700,000.
    public static let maxRecords = 1_000_000

    /// The most data bytes (after the header) one file may declare: 256 MiB, above
    /// 60,000 x 28 x 28 x 4 (188 MB, the training images even as 4-byte values) with room
    /// to spare. It caps what a header can make the reader hold.
    public static let maxPayloadBytes = 256 << 20

    /// The largest stored file read at all: the largest raw file (`maxPayloadBytes` and a
    /// header) plus what gzip framing could add to it.
    public static let maxStoredBytes = maxPayloadBytes + (8 << 20)

    // MARK: Headers

    /// The two IDX file types harness reads.
    public enum Kind: String, Sendable {
        case images, labels

        public var magic: UInt32 { self == .images ? IDX.imagesMagic : IDX.labelsMagic }
        /// Count, rows, columns for images; count for labels.
        public var dimensionCount: Int { Int(magic & 0xFF) }
        /// The magic number and one UInt32 per dimension.
        public var headerSize: Int { 4 + 4 * dimensionCount }
    }

    /// A checked IDX header: every dimension at least 1, at most `maxRecords` records and
    /// at most `maxPayloadBytes` of data.
    public struct Header: Sendable, Equatable {
        public let kind: Kind
        /// Count, then (for images) rows and columns.
        public let dimensions: [Int]

        /// Bytes of header: the magic number and the dimensions.
        public var size: Int { kind.headerSize }
        public var records: Int { dimensions[0] }
        /// Bytes per record: rows x columns for images, 1 for labels.
        public var recordBytes: Int { dimensions.dropFirst().reduce(1, *) }
        /// Bytes of data after the header.
        public var payloadBytes: Int { records * recordBytes }

        /// "2 images of 28x28", "10 labels": what the header declares, for messages.
        public var declared: String { Header.describe(kind, dimensions) }

        static func describe(_ kind: Kind, _ dims: [Int]) -> String {
            kind == .images ? "\(dims[0]) images of \(dims[1])x\(dims[2])" : "\(dims[0]) labels"
        }
    }

    /// A decoded file: its header and the data after it.
    public struct Decoded: Sendable {
        public let header: Header
        /// `header.payloadBytes` bytes: the images' pixels or the labels.
        public let payload: [UInt8]
        /// Whether the file was gzip (or zlib) data.
        public let compressed: Bool
    }

    /// What decoding one file cost, filled in whether it succeeded or not.
    public struct DecodeStatistics: Sendable, Equatable {
        /// Decoded bytes seen, header included. For gzip data this is what zlib inflated,
        /// which stops at the first piece (at most `Gzip.chunkSize` bytes) that goes past
        /// the header's size.
        public var decodedBytes = 0
        /// The most memory held for decoded data at once: the capacity of the data buffer
        /// plus, for compressed files, zlib's output window (`Gzip.chunkSize`). The buffer
        /// grows geometrically with the data that arrives, capped at what the header
        /// declares, so this is at most the lesser of the header's data size and about twice
        /// the data decoded (at least one window), plus the window and the allocator's
        /// rounding. While the buffer grows, the old one is held until it has been copied:
        /// up to half as much again, for a moment.
        public var peakBufferBytes = 0

        public init() {}
    }

    // MARK: Reading

    /// The file's bytes exactly as stored (possibly gzip-compressed). Only regular files
    /// are read: a FIFO, directory or device is refused before it is opened for reading
    /// (opening a FIFO waits for a writer), as is a file larger than `maxStoredBytes`.
    public static func readStored(path: String) throws -> Data {
        func failure(_ code: Int32) -> HarnessError {
            HarnessError("\(path): cannot read file (\(String(cString: strerror(code))))")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure(errno) }
        try requireRegularFile(info, path: path)

        // O_NONBLOCK: should the path have become a FIFO since `stat`, `open` still returns
        // at once, and `fstat` below refuses it. It changes nothing for regular files.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else { throw failure(errno) }
        try requireRegularFile(info, path: path)
        let size = Int(info.st_size)
        guard size <= maxStoredBytes else {
            throw HarnessError("\(path): the file is \(size) bytes, larger than any IDX file harness reads "
                + "(at most \(maxStoredBytes) bytes)")
        }

        var data = Data(count: size)
        var filled = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < size {
                let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw failure(errno) }
                if count == 0 { break }  // The file shrank since fstat.
                filled += count
            }
        }
        data.count = filled
        return data
    }

    private static func requireRegularFile(_ info: stat, path: String) throws {
        guard let what = FileKind.nonRegular(info) else { return }
        throw HarnessError("\(path) is not a regular file but \(what); data files must be regular files")
    }

    /// Stored bytes to an IDX header and its data. Every IDX file begins with two zero
    /// bytes, so anything else is taken for gzip when it carries the gzip signature or a
    /// `.gz` name; otherwise it is left for the magic-number check to reject.
    ///
    /// Compressed data is inflated as a stream: the header is checked (magic number,
    /// plausible dimensions, and `check`, which may reject it too) before anything after it
    /// is inflated, the data buffer grows with what arrives (never ahead of it, never past
    /// what the header declares), and decoding stops at the first byte past the size the
    /// header implies.
    public static func decode(stored: Data, file: String, kind: Kind,
                              check: (Header) throws -> Void = { _ in }) throws -> Decoded {
        var statistics = DecodeStatistics()
        return try decode(stored: stored, file: file, kind: kind, check: check, statistics: &statistics)
    }

    /// `decode`, reporting in `statistics` what it cost, also when it throws.
    public static func decode(stored: Data, file: String, kind: Kind, check: (Header) throws -> Void = { _ in },
                              statistics: inout DecodeStatistics) throws -> Decoded {
        let isGzip = stored.count >= 2 && stored[stored.startIndex] == 0x1F && stored[stored.startIndex + 1] == 0x8B
        let looksRaw = stored.count >= 2 && stored[stored.startIndex] == 0 && stored[stored.startIndex + 1] == 0
        return try decode(stored, file: file, kind: kind, compressed: isGzip || (file.hasSuffix(".gz") && !looksRaw),
                          check: check, statistics: &statistics)
    }

    private static func decode(_ stored: Data, file: String, kind: Kind, compressed: Bool,
                               check: (Header) throws -> Void, statistics: inout DecodeStatistics) throws -> Decoded {
        var reader = StreamReader(file: file, kind: kind, compressed: compressed)
        defer { statistics = reader.statistics }
        if compressed {
            try Gzip.inflate(stored, file: file, shortfall: { reader.shortfall }) { piece in
                try reader.feed(piece, check: check)
            }
        } else {
            try stored.withUnsafeBytes { bytes in
                try reader.feed(UnsafeRawBufferPointer(rebasing: bytes.prefix(kind.headerSize)), check: check)
                guard let header = reader.header else { return }
                // The whole file is at hand: its length is checked before anything is copied.
                let payload = bytes.count - header.size
                if payload > header.payloadBytes {
                    throw HarnessError(
                        "\(file): the header declares \(header.declared) (\(header.payloadBytes) bytes after the "
                            + "\(header.size)-byte header), but the file holds \(payload): "
                            + "\(payload - header.payloadBytes) unexpected extra bytes")
                }
                try reader.feed(UnsafeRawBufferPointer(rebasing: bytes[header.size...]), check: check)
            }
        }
        return try reader.finish()
    }

    /// Uncompressed IDX bytes (whatever they begin with) to a header and its data.
    private static func decodeRaw(_ data: Data, file: String, kind: Kind) throws -> Decoded {
        var statistics = DecodeStatistics()
        return try decode(data, file: file, kind: kind, compressed: false, check: { _ in }, statistics: &statistics)
    }

    public static func readImages(path: String) throws -> Images {
        images(try decode(stored: readStored(path: path), file: path, kind: .images))
    }

    public static func readLabels(path: String, classCount: Int = 10) throws -> [UInt8] {
        try labels(decode(stored: readStored(path: path), file: path, kind: .labels), file: path,
                   classCount: classCount)
    }

    /// Reads an image file and its label file and checks that they hold the same
    /// number of records.
    public static func readLabeledImages(images imagesPath: String, labels labelsPath: String,
                                         classCount: Int = 10) throws -> LabeledImages {
        let images = try readImages(path: imagesPath)
        let labels = try readLabels(path: labelsPath, classCount: classCount)
        return try pair(images, labels, imagesFile: imagesPath, labelsFile: labelsPath)
    }

    /// Joins images and labels read from two files, which must hold equally many records.
    public static func pair(_ images: Images, _ labels: [UInt8], imagesFile: String, labelsFile: String) throws
        -> LabeledImages {
        guard images.count == labels.count else {
            throw HarnessError(
                "record count mismatch: \(imagesFile) holds \(images.count) images but \(labelsFile) holds "
                    + "\(labels.count) labels; the two files must come from the same set")
        }
        guard images.rows > 0 && images.columns > 0 else {
            throw HarnessError("\(imagesFile): images of \(images.rows)x\(images.columns) pixels; "
                + "rows and columns must be at least 1")
        }
        return LabeledImages(rows: images.rows, columns: images.columns, pixels: images.pixels, labels: labels)
    }

    /// Parses decoded (uncompressed) IDX image bytes of any image size.
    public static func parseImages(_ data: Data, file: String) throws -> Images {
        images(try decodeRaw(data, file: file, kind: .images))
    }

    /// Parses decoded (uncompressed) IDX label bytes; every label must lie in
    /// `0..<classCount`.
    public static func parseLabels(_ data: Data, file: String, classCount: Int = 10) throws -> [UInt8] {
        try labels(decodeRaw(data, file: file, kind: .labels), file: file, classCount: classCount)
    }

    /// Decoded image data as `Images`; no copy of the pixels.
    public static func images(_ decoded: Decoded) -> Images {
        let dims = decoded.header.dimensions
        return Images(count: dims[0], rows: dims[1], columns: dims[2], pixels: decoded.payload)
    }

    /// Decoded label data, each label checked to lie in `0..<classCount`.
    public static func labels(_ decoded: Decoded, file: String, classCount: Int = 10) throws -> [UInt8] {
        let labels = decoded.payload
        if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw HarnessError("\(file): label \(labels[bad]) at record \(bad) is outside 0...\(classCount - 1)")
        }
        return labels
    }

    /// Takes decoded bytes piece by piece: collects and checks the header, then the data,
    /// holding no more than has arrived and no more than the header declares.
    private struct StreamReader {
        let file: String
        let kind: Kind
        let compressed: Bool
        var headerBytes: [UInt8] = []
        var header: Header?
        var payload: [UInt8] = []
        var statistics = DecodeStatistics()

        init(file: String, kind: Kind, compressed: Bool) {
            self.file = file
            self.kind = kind
            self.compressed = compressed
            statistics.peakBufferBytes = compressed ? Gzip.chunkSize : 0
            headerBytes.reserveCapacity(kind.headerSize)
        }

        /// `check` sees the header once it is complete and valid, before any data is kept.
        mutating func feed(_ piece: UnsafeRawBufferPointer, check: (Header) throws -> Void) throws {
            statistics.decodedBytes += piece.count
            var rest = piece[...]
            if header == nil {
                let take = min(kind.headerSize - headerBytes.count, rest.count)
                let magicWasComplete = headerBytes.count >= 4
                headerBytes.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                if !magicWasComplete && headerBytes.count >= 4 { try checkMagic() }
                guard headerBytes.count == kind.headerSize else { return }
                let header = try IDX.validate(headerBytes, kind: kind, file: file)
                try check(header)
                self.header = header
            }
            guard let header, !rest.isEmpty else { return }
            guard rest.count <= header.payloadBytes - payload.count else {
                throw HarnessError(
                    "\(file): decompresses past the \(header.size + header.payloadBytes) bytes its header describes "
                        + "(the \(header.size)-byte header and \(header.declared)); decoding stopped there: "
                        + "the file holds more than its header announces")
            }
            let needed = payload.count + rest.count
            if needed > payload.capacity {
                // Geometric growth, but never past what the header declares: memory follows
                // what actually arrives, so a header that overstates costs nothing extra.
                payload.reserveCapacity(min(header.payloadBytes, max(needed, 2 * payload.capacity, Gzip.chunkSize)))
                statistics.peakBufferBytes = max(statistics.peakBufferBytes,
                                                 payload.capacity + (compressed ? Gzip.chunkSize : 0))
            }
            payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest))
        }

        mutating func checkMagic() throws {
            let magic = headerBytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard magic == kind.magic else {
                throw HarnessError(
                    "\(file): wrong magic number: expected \(hex(kind.magic)) (IDX \(kind.rawValue)), "
                        + "found \(hex(magic))" + describe(magic: magic))
            }
        }

        /// For a gzip stream cut short: how much of what the header announces arrived.
        var shortfall: String? {
            guard let header else {
                return "it holds \(headerBytes.count) of the \(kind.headerSize) bytes of an IDX \(kind.rawValue) header"
            }
            return "it holds \(payload.count / header.recordBytes) of the \(header.records) records its header announces"
        }

        /// The end of the data: the header and all the records it declares must have arrived.
        func finish() throws -> Decoded {
            guard let header else {
                let count = headerBytes.count
                if count < 4 {
                    throw HarnessError("\(file): truncated header: expected at least \(kind.headerSize) bytes, "
                        + "found \(count)")
                }
                let dimensions = kind.dimensionCount
                throw HarnessError(
                    "\(file): truncated header: expected \(kind.headerSize) bytes (magic number and \(dimensions) "
                        + "dimension\(dimensions == 1 ? "" : "s")), found \(count)")
            }
            guard payload.count == header.payloadBytes else {
                throw HarnessError(
                    "\(file): truncated: the header declares \(header.declared), which needs \(header.payloadBytes) "
                        + "bytes after the \(header.size)-byte header, but the file holds only \(payload.count); "
                        + "it holds \(payload.count / header.recordBytes) of the \(header.records) records its "
                        + "header announces")
            }
            return Decoded(header: header, payload: payload, compressed: compressed)
        }
    }

    /// Checks the dimensions of a complete header (whose magic number is right).
    private static func validate(_ bytes: [UInt8], kind: Kind, file: String) throws -> Header {
        let dims = (0..<kind.dimensionCount).map { d in
            bytes[4 + 4 * d ..< 8 + 4 * d].reduce(0) { $0 << 8 | Int($1) }
        }
        let declared = Header.describe(kind, dims)
        guard dims.allSatisfy({ $0 >= 1 }) else {
            throw HarnessError("\(file): implausible header: it declares \(declared); every dimension "
                + "(\(kind == .images ? "count, rows and columns" : "the count")) must be at least 1")
        }
        guard dims[0] <= maxRecords else {
            throw HarnessError("\(file): implausible header: it declares \(declared), but harness reads at most "
                + "\(maxRecords) records from one file")
        }
        var bytesNeeded = 1, overflow = false
        for d in dims where !overflow { (bytesNeeded, overflow) = bytesNeeded.multipliedReportingOverflow(by: d) }
        guard !overflow && bytesNeeded <= maxPayloadBytes else {
            throw HarnessError("\(file): implausible header: it declares \(declared), "
                + "\(overflow ? "more than \(Int.max)" : String(bytesNeeded)) bytes of data, but harness reads at most "
                + "\(maxPayloadBytes) bytes from one file")
        }
        return Header(kind: kind, dimensions: dims)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A hint on what a wrong magic number means, for the error message.
    private static func describe(magic: UInt32) -> String {
        switch magic {
        case imagesMagic: return " (IDX images)"
        case labelsMagic: return " (IDX labels)"
        case _ where magic >> 16 == 0x1F8B: return " (gzip data that could not be recognised)"
        case _ where magic >> 16 == 0:
            return " (IDX data of type 0x\(String((magic >> 8) & 0xFF, radix: 16)) with \(magic & 0xFF) dimensions)"
        default: return " (not an IDX file)"
        }
    }

    // MARK: Writing

    /// An uncompressed IDX image file: `pixels` holds `count` images of `rows * columns` bytes.
    public static func encodeImages(rows: Int, columns: Int, pixels: [UInt8]) -> Data {
        precondition(rows > 0 && columns > 0 && pixels.count % (rows * columns) == 0,
                     "pixels must hold whole images of rows x columns bytes")
        return encode(magic: imagesMagic, dims: [pixels.count / (rows * columns), rows, columns], payload: pixels)
    }

    /// An uncompressed IDX label file.
    public static func encodeLabels(_ labels: [UInt8]) -> Data {
        encode(magic: labelsMagic, dims: [labels.count], payload: labels)
    }

    private static func encode(magic: UInt32, dims: [Int], payload: [UInt8]) -> Data {
        var data = Data(capacity: 4 + 4 * dims.count + payload.count)
        for word in [magic] + dims.map({ UInt32($0) }) {
            withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) }
        }
        data.append(contentsOf: payload)
        return data
    }
}
