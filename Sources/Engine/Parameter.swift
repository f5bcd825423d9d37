/// A trainable tensor: its value, the gradient accumulated into it by backward passes,
/// and an optional pruning mask (1 = kept, 0 = pruned).
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let value: FloatBuffer
    public let gradient: FloatBuffer
    /// Weight matrices are prunable by magnitude; biases are not (only `maskUnits`, which
    /// removes whole units in place, masks biases too).
    public let isWeightMatrix: Bool
    public private(set) var mask: FloatBuffer?

    public var count: Int { value.count }

    public init(name: String, shape: [Int], isWeightMatrix: Bool) {
        self.name = name
        self.shape = shape
        self.isWeightMatrix = isWeightMatrix
        let count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
        gradient = FloatBuffer(count: count)
    }

    /// Fills the value with U(-bound, bound) draws, in storage order.
    public func initializeUniform(bound: Float, using generator: inout SeededGenerator) {
        for i in 0..<count { value[i] = generator.uniform(-bound, bound) }
    }

    /// Installs a mask and zeroes the pruned values at once.
    public func setMask(_ newMask: [Float]) {
        precondition(newMask.count == count, "mask size \(newMask.count) differs from parameter size \(count)")
        let buffer = FloatBuffer(newMask)
        mask = buffer
        applyMask(to: value)
    }

    public func clearMask() { mask = nil }

    /// Multiplies `buffer` (same shape as the value) by the mask, if any.
    public func applyMask(to buffer: FloatBuffer) {
        guard let mask else { return }
        let m = mask.pointer, p = buffer.pointer
        for i in 0..<count { p[i] *= m[i] }
    }
}
