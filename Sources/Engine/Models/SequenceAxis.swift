/// How a 28x28 image becomes a sequence: the paper reads rows as time steps (28 steps of
/// 28 pixels); `000_*.txt` reads columns.
public enum SequenceAxis: String, Sendable, Codable, CaseIterable {
    case rows, columns
}
