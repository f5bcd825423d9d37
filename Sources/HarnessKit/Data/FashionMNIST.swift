import Foundation

/// One data file as found on disk.
public struct DataFileInfo: Sendable, Codable, Equatable {
    /// File name, e.g. `train-images-idx3-ubyte.gz`.
    public let name: String
    public let path: String
    /// Number of records (images or labels) its header declares.
    public let records: Int
    /// MD5 of the file as stored (compressed if it is compressed), comparable with
    /// the official sums.
    public let md5: String
}

/// Fashion-MNIST (Zalando Research): 28x28 greyscale images of 10 clothing classes,
/// loaded from the four official IDX files, each raw or gzip-compressed.
public struct FashionMNIST: Sendable {
    public let train: LabeledImages
    public let test: LabeledImages
    public let directory: String
    /// Train images, train labels, test images, test labels.
    public let files: [DataFileInfo]
    /// Identifies the decoded contents; see `fingerprint(train:test:)`.
    public let fingerprint: String

    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    public static let imageRows = 28
    public static let imageColumns = 28

    /// The four file names without the `.gz` suffix, in the order of `files`.
    public static let fileNames = [
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    ]

    /// The path of `name` in `directory`: the `.gz` file if there is one, else the raw
    /// file, else nil.
    public static func storedFile(_ name: String, in directory: String) -> String? {
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        for candidate in [name + ".gz", name] {
            let path = base.appendingPathComponent(candidate).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return path
            }
        }
        return nil
    }

    /// The names in `fileNames` that `directory` holds in neither form.
    public static func missingFiles(in directory: String) -> [String] {
        fileNames.filter { storedFile($0, in: directory) == nil }
    }

    /// Reads and checks the four files in `directory`.
    public static func load(directory: String) throws -> FashionMNIST {
        var paths: [String] = []
        for name in fileNames {
            guard let path = storedFile(name, in: directory) else {
                throw HarnessError(
                    "Fashion-MNIST directory \(directory) has no \(name).gz or \(name) "
                        + "(it needs \(fileNames.map { $0 + "[.gz]" }.joined(separator: ", ")))")
            }
            paths.append(path)
        }

        let (train, trainFiles) = try loadSplit(images: paths[0], labels: paths[1])
        let (test, testFiles) = try loadSplit(images: paths[2], labels: paths[3])
        return FashionMNIST(train: train, test: test, directory: directory, files: trainFiles + testFiles,
                            fingerprint: fingerprint(train: train, test: test))
    }

    private static func loadSplit(images imagesPath: String, labels labelsPath: String) throws
        -> (LabeledImages, [DataFileInfo]) {
        // The image size is checked from the header, before the pixels are inflated.
        let storedImages = try IDX.readStored(path: imagesPath)
        let images = IDX.images(try IDX.decode(stored: storedImages, file: imagesPath, kind: .images) { header in
            let (rows, columns) = (header.dimensions[1], header.dimensions[2])
            guard rows == imageRows && columns == imageColumns else {
                throw HarnessError(
                    "\(imagesPath): expected \(imageRows)x\(imageColumns) Fashion-MNIST images, found \(rows)x\(columns)")
            }
        })
        let storedLabels = try IDX.readStored(path: labelsPath)
        let labels = try IDX.labels(IDX.decode(stored: storedLabels, file: labelsPath, kind: .labels),
                                    file: labelsPath, classCount: classNames.count)
        let set = try IDX.pair(images, labels, imagesFile: imagesPath, labelsFile: labelsPath)

        func info(_ path: String, _ records: Int, _ stored: Data) -> DataFileInfo {
            DataFileInfo(name: URL(fileURLWithPath: path).lastPathComponent, path: path, records: records,
                         md5: Digest.md5Hex(stored))
        }
        return (set, [info(imagesPath, images.count, storedImages), info(labelsPath, labels.count, storedLabels)])
    }

    /// The first 16 hex digits of SHA-256 over the decoded data: for train, then test,
    /// the count, rows and columns as big-endian UInt32, then the pixels, then the
    /// labels. It ignores how the files are stored, so the same data raw or gzipped
    /// has the same fingerprint.
    public static func fingerprint(train: LabeledImages, test: LabeledImages) -> String {
        var hasher = Digest.SHA256()
        for set in [train, test] {
            for dimension in [set.count, set.rows, set.columns] {
                withUnsafeBytes(of: UInt32(dimension).bigEndian) { hasher.update($0) }
            }
            hasher.update(set.pixels)
            hasher.update(set.labels)
        }
        return String(Digest.hex(hasher.finalize()).prefix(16))
    }

    /// What was loaded, as JSON text for the results database: the directory, the
    /// fingerprint, each file (name, path, records, MD5) and the shape of each split.
    /// `directoryLabel`: the directory as the user named it (a relative path stays relative,
    /// so reports carry no machine's absolute paths); the absolute directory by default.
    public func descriptionJSON(directoryLabel: String? = nil) throws -> String {
        struct Split: Encodable { let records, rows, columns: Int }
        struct Description: Encodable {
            let directory: String
            let fingerprint: String
            let files: [DataFileInfo]
            let train, test: Split
        }
        let description = Description(
            directory: directoryLabel ?? directory, fingerprint: fingerprint, files: files,
            train: Split(records: train.count, rows: train.rows, columns: train.columns),
            test: Split(records: test.count, rows: test.rows, columns: test.columns))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(description), as: UTF8.self)
    }
}
