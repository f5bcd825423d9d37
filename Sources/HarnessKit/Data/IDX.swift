import Foundation

/// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
/// a 4-byte big-endian magic number `00 00 <type> <number of dimensions>`, one
/// big-endian UInt32 per dimension, then the values in row-major order. Only the
/// unsigned-byte type (0x08) occurs in these data sets. Files may be stored raw or
/// gzip-compressed; either is accepted whatever the file is called.
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

    // MARK: Reading

    /// The file's bytes exactly as stored (possibly gzip-compressed).
    public static func readStored(path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw HarnessError("\(path): cannot read file (\(error.localizedDescription))")
        }
    }

    /// Stored bytes to IDX bytes. Every IDX file begins with two zero bytes, so
    /// anything else is taken for gzip when it carries the gzip signature or a `.gz`
    /// name; otherwise it is left for the magic-number check to reject.
    public static func decode(stored: Data, file: String) throws -> Data {
        let isGzip = stored.count >= 2 && stored[stored.startIndex] == 0x1F && stored[stored.startIndex + 1] == 0x8B
        let looksRaw = stored.count >= 2 && stored[stored.startIndex] == 0 && stored[stored.startIndex + 1] == 0
        if isGzip || (file.hasSuffix(".gz") && !looksRaw) {
            return try Gzip.decompress(stored, file: file)
        }
        return stored
    }

    public static func readImages(path: String) throws -> Images {
        try parseImages(decode(stored: readStored(path: path), file: path), file: path)
    }

    public static func readLabels(path: String, classCount: Int = 10) throws -> [UInt8] {
        try parseLabels(decode(stored: readStored(path: path), file: path), file: path, classCount: classCount)
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
        return LabeledImages(rows: images.rows, columns: images.columns, pixels: images.pixels, labels: labels)
    }

    /// Parses decoded (uncompressed) IDX image bytes of any image size.
    public static func parseImages(_ data: Data, file: String) throws -> Images {
        try data.withUnsafeBytes { bytes in
            let (dims, headerSize) = try header(bytes, file: file, expected: imagesMagic, kind: "images")
            return Images(count: dims[0], rows: dims[1], columns: dims[2],
                          pixels: copyBytes(bytes, from: headerSize))
        }
    }

    /// Parses decoded (uncompressed) IDX label bytes; every label must lie in
    /// `0..<classCount`.
    public static func parseLabels(_ data: Data, file: String, classCount: Int = 10) throws -> [UInt8] {
        try data.withUnsafeBytes { bytes in
            let (_, headerSize) = try header(bytes, file: file, expected: labelsMagic, kind: "labels")
            let labels = copyBytes(bytes, from: headerSize)
            if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
                throw HarnessError(
                    "\(file): label \(labels[bad]) at record \(bad) is outside 0...\(classCount - 1)")
            }
            return labels
        }
    }

    /// Checks magic number and payload length; returns the dimensions and the header size.
    private static func header(_ bytes: UnsafeRawBufferPointer, file: String, expected: UInt32, kind: String)
        throws -> (dims: [Int], headerSize: Int) {
        let dimensionCount = Int(expected & 0xFF)
        let headerSize = 4 + 4 * dimensionCount
        guard bytes.count >= 4 else {
            throw HarnessError(
                "\(file): truncated header: expected at least \(headerSize) bytes, found \(bytes.count)")
        }
        let magic = readUInt32(bytes, at: 0)
        guard magic == expected else {
            throw HarnessError(
                "\(file): wrong magic number: expected \(hex(expected)) (IDX \(kind)), found \(hex(magic))"
                    + describe(magic: magic))
        }
        guard bytes.count >= headerSize else {
            throw HarnessError(
                "\(file): truncated header: expected \(headerSize) bytes (magic number and \(dimensionCount) "
                    + "dimension\(dimensionCount == 1 ? "" : "s")), found \(bytes.count)")
        }
        let dims = (0..<dimensionCount).map { Int(readUInt32(bytes, at: 4 + 4 * $0)) }
        var expectedPayload = 1
        for d in dims {
            let product = expectedPayload.multipliedReportingOverflow(by: d)
            guard !product.overflow else {
                throw HarnessError("\(file): header dimensions \(dims) are too large to be real")
            }
            expectedPayload = product.partialValue
        }
        let payload = bytes.count - headerSize
        let declared = kind == "images"
            ? "\(dims[0]) images of \(dims[1])x\(dims[2])" : "\(dims[0]) labels"
        if payload < expectedPayload {
            throw HarnessError(
                "\(file): truncated: the header declares \(declared), which needs \(expectedPayload) bytes "
                    + "after the \(headerSize)-byte header, but the file holds only \(payload)")
        }
        if payload > expectedPayload {
            throw HarnessError(
                "\(file): the header declares \(declared) (\(expectedPayload) bytes after the "
                    + "\(headerSize)-byte header), but the file holds \(payload): \(payload - expectedPayload) "
                    + "unexpected extra bytes")
        }
        return (dims, headerSize)
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// One memcpy into a fresh array, not a per-byte append.
    private static func copyBytes(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> [UInt8] {
        let source = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        return [UInt8](unsafeUninitializedCapacity: source.count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            initialized = source.count
        }
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
