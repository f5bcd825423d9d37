import Engine
import Foundation
import HarnessKit

/// Writes small synthetic Fashion-MNIST directories for tests.
///
/// The images are learnable: class 0...4 is a bright horizontal band in the
/// 1st...5th fifth of the rows, class 5...9 a bright vertical band in the 1st...5th
/// fifth of the columns, on a dim noisy background, with the band itself noisy too.
/// A linear classifier separates them, so a few epochs of any model should get far
/// above the 10% of guessing.
public enum IDXFiles {
    /// What `writeDataset` wrote.
    public struct Dataset: Sendable {
        public let directory: String
        public let train: LabeledImages
        public let test: LabeledImages
        /// Train images, train labels, test images, test labels.
        public let paths: [String]
    }

    /// `trainCount` and `testCount` images with labels 0, 1, ..., 9, 0, 1, ...
    @discardableResult
    public static func writeDataset(in directory: String, trainCount: Int, testCount: Int, gzip: Bool = true,
                                    seed: UInt64 = 1, rows: Int = 28, columns: Int = 28) throws -> Dataset {
        try writeDataset(in: directory, trainLabels: cyclingLabels(count: trainCount),
                         testLabels: cyclingLabels(count: testCount), gzip: gzip, seed: seed,
                         rows: rows, columns: columns)
    }

    /// One image per given label (labels above 9 reuse the pattern of `label % 10`,
    /// so invalid files can be written too).
    @discardableResult
    public static func writeDataset(in directory: String, trainLabels: [UInt8], testLabels: [UInt8],
                                    gzip: Bool = true, seed: UInt64 = 1, rows: Int = 28, columns: Int = 28)
        throws -> Dataset {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let train = makeImages(labels: trainLabels, rows: rows, columns: columns, seed: seed, stream: "idx-train")
        let test = makeImages(labels: testLabels, rows: rows, columns: columns, seed: seed, stream: "idx-test")
        let contents = [
            IDX.encodeImages(rows: rows, columns: columns, pixels: train.pixels), IDX.encodeLabels(train.labels),
            IDX.encodeImages(rows: rows, columns: columns, pixels: test.pixels), IDX.encodeLabels(test.labels),
        ]
        var paths: [String] = []
        for (name, data) in zip(FashionMNIST.fileNames, contents) {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(gzip ? name + ".gz" : name).path
            try write(data, to: path, gzip: gzip)
            paths.append(path)
        }
        return Dataset(directory: directory, train: train, test: test, paths: paths)
    }

    /// Images in memory, without files: one per label, drawn from `seed` and `stream`.
    public static func makeImages(labels: [UInt8], rows: Int = 28, columns: Int = 28, seed: UInt64 = 1,
                                  stream: String = "idx-images") -> LabeledImages {
        precondition(rows >= 5 && columns >= 5, "the band patterns need at least 5 rows and 5 columns")
        var generator = SeededGenerator(seed: seed, stream: stream)
        var pixels = [UInt8](repeating: 0, count: labels.count * rows * columns)
        for (index, label) in labels.enumerated() {
            let pattern = Int(label) % 10
            let band = pattern % 5
            for r in 0..<rows {
                for c in 0..<columns {
                    let position = pattern < 5 ? r * 5 / rows : c * 5 / columns
                    let bright = position == band
                    let value = bright ? 160 + generator.nextInt(below: 96) : generator.nextInt(below: 64)
                    pixels[(index * rows + r) * columns + c] = UInt8(value)
                }
            }
        }
        return LabeledImages(rows: rows, columns: columns, pixels: pixels, labels: labels)
    }

    /// 0, 1, ..., 9, 0, 1, ... (`count` labels, balanced to within one per class).
    public static func cyclingLabels(count: Int) -> [UInt8] {
        (0..<count).map { UInt8($0 % 10) }
    }

    /// Writes `data`, gzip-compressed first if asked.
    public static func write(_ data: Data, to path: String, gzip: Bool) throws {
        try (gzip ? Gzip.compress(data) : data).write(to: URL(fileURLWithPath: path))
    }
}
