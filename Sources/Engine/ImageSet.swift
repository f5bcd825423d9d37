/// Images and their labels, pixels kept as bytes until a batch is formed.
public struct ImageSet: Sendable {
    public let pixels: [UInt8]   // (N, height·width)
    public let labels: [UInt8]   // (N)
    public let height: Int
    public let width: Int
    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [UInt8], height: Int, width: Int) {
        precondition(pixels.count == labels.count * height * width, "pixel count does not match labels x height x width")
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
    }

    /// The first `count` images (all of them when there are fewer).
    public func prefix(_ count: Int) -> ImageSet {
        let n = min(count, self.count), area = height * width
        return ImageSet(pixels: Array(pixels[0..<(n * area)]), labels: Array(labels[0..<n]), height: height, width: width)
    }
}
