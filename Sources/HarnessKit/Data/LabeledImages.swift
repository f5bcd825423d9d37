import Engine

/// A set of equally sized greyscale images with one class label each.
///
/// Pixels stay bytes (0...255) in memory, image after image in row-major order:
/// image `i` is `pixels[i * rows * columns ..< (i + 1) * rows * columns]`. Conversion
/// to floats happens batch by batch in the trainer, so 60,000 images take 47 MB, not 188.
public struct LabeledImages: Sendable, Equatable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    public init(rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(rows > 0 && columns > 0, "images need at least one row and one column")
        precondition(pixels.count == labels.count * rows * columns,
                     "\(pixels.count) pixels do not make \(labels.count) images of \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }

    public var count: Int { labels.count }

    /// Short on purpose: the default would print every pixel in a failing test.
    public var description: String { "LabeledImages(\(count) images of \(rows)x\(columns))" }
    public var pixelsPerImage: Int { rows * columns }

    /// The pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[index * pixelsPerImage ..< (index + 1) * pixelsPerImage]
    }

    /// How many images carry each label: element `c` counts label `c`, up to the
    /// largest label present.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: Int(labels.max() ?? 0) + 1)
        for label in labels { counts[Int(label)] += 1 }
        return labels.isEmpty ? [] : counts
    }

    /// The images at `indices`, in that order. Indices must be valid.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let size = pixelsPerImage
        let newPixels = [UInt8](unsafeUninitializedCapacity: indices.count * size) { target, initialized in
            pixels.withUnsafeBufferPointer { source in
                for (slot, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "image index \(index) is outside 0..<\(count)")
                    (target.baseAddress! + slot * size).initialize(from: source.baseAddress! + index * size, count: size)
                }
            }
            initialized = indices.count * size
        }
        return LabeledImages(rows: rows, columns: columns, pixels: newPixels, labels: indices.map { labels[$0] })
    }

    /// A seeded random subset of `count` images, kept in their original order.
    ///
    /// Stratified sampling takes `count / k` images of each of the `k` classes present,
    /// and one more from each of the `count % k` lowest-numbered classes. The same
    /// seed always picks the same images; asking for every image returns the set
    /// unchanged.
    public func sample(count wanted: Int, stratified: Bool, seed: UInt64) throws -> LabeledImages {
        guard wanted > 0 else {
            throw HarnessError("sample size must be at least 1, got \(wanted)")
        }
        guard wanted <= count else {
            throw HarnessError("cannot sample \(wanted) images: the set holds only \(count)")
        }
        if wanted == count { return self }

        var generator = SeededGenerator(seed: seed, stream: "train-subset")
        var chosen: [Int]
        if stratified {
            var byClass = [[Int]](repeating: [], count: classCounts.count)
            for (index, label) in labels.enumerated() { byClass[Int(label)].append(index) }
            let present = byClass.indices.filter { !byClass[$0].isEmpty }
            let perClass = wanted / present.count, extra = wanted % present.count
            chosen = []
            chosen.reserveCapacity(wanted)
            for (rank, label) in present.enumerated() {
                let need = perClass + (rank < extra ? 1 : 0)
                guard byClass[label].count >= need else {
                    throw HarnessError(
                        "stratified sample of \(wanted) images needs \(need) of class \(label), "
                            + "but the set holds only \(byClass[label].count) of that class")
                }
                var members = byClass[label]
                generator.shuffle(&members)
                chosen.append(contentsOf: members.prefix(need))
            }
        } else {
            chosen = Array(generator.permutation(count).prefix(wanted))
        }
        chosen.sort()
        return subset(chosen)
    }
}
